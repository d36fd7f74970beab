# Prelude for running the README's walkthrough: what a new user has done in another terminal
# (`swift run coffer dev`) and pasted (the export line).
coffer dev --data-dir ./.coffer > dev.log 2>&1 &
for _ in $(seq 100); do grep -q '^export' dev.log && break; sleep 0.1; done
eval "$(grep '^export' dev.log)"

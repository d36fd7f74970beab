# Prelude for running the README's walkthrough: what a new user has done in another terminal
# (`swift run coffer dev`) and pasted (the export line).
# A free port, not the default 4599, so that the test never meets the developer's own `coffer dev`.
coffer dev --port 0 --data-dir ./.coffer > dev.log 2>&1 &
for _ in $(seq 200); do grep -q '^export' dev.log && break; sleep 0.1; done
grep -q '^export' dev.log || { cat dev.log >&2; echo "coffer dev did not start" >&2; exit 1; }
eval "$(grep '^export' dev.log)"

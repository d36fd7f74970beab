# Prelude for docs/deployment.md: the PostgreSQL server a deployment has. scripts/test starts a throwaway
# one (scripts/postgres) and names it in COFFER_TEST_POSTGRES; the walkthrough creates its own database there.
POSTGRES=${COFFER_TEST_POSTGRES:?"docs/deployment.md needs a PostgreSQL server: set COFFER_TEST_POSTGRES (scripts/postgres start DIR prints one)"}

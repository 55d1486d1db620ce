#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and all tests against a real PostgreSQL and
# Redis (started here when they are not running). Each test creates its own database.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

export ATLAS_SAMPLES_DIR="${ATLAS_SAMPLES_DIR:-$(cd .. && pwd)/shared/data}"
export ATLAS_TEST_DATABASE_URL="${ATLAS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ATLAS_TEST_REDIS_URL="${ATLAS_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

# Tests drop their databases when they end; a test process killed midway cannot, so
# databases of tests that started over two hours ago are dropped here: the cargo tests'
# names carry a UUIDv7, whose first 48 bits are the creation time in milliseconds, and
# scripts/e2e.sh's (atlas_test_e2e_<epoch seconds>_<pid>_<random>) the time in seconds.
psql "$ATLAS_TEST_DATABASE_URL" -qAt <<'SQL' | while read -r stale; do
select datname from pg_database
where (datname ~ '^atlas_test_[0-9a-f]{32}$'
       and ('x' || substr(datname, 12, 12))::bit(48)::bigint
           < (extract(epoch from now()) * 1000)::bigint - 2 * 3600 * 1000)
   or (datname ~ '^atlas_test_e2e_[0-9]{10,}_'
       and substring(datname from '^atlas_test_e2e_([0-9]+)_')::bigint
           < extract(epoch from now())::bigint - 2 * 3600)
SQL
  psql "$ATLAS_TEST_DATABASE_URL" -qc "drop database if exists \"$stale\" with (force)"
done

# The Kubernetes manifests and Dockerfile, offline: render, schemas, checkov, hadolint.
scripts/check-k8s.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Documentation examples and benchmarks (each benchmark runs once, as a smoke test) first;
# then every unit and integration test; then the main job end to end (scripts/e2e.sh:
# scripts/main.sh with the dev binaries these tests built, the README's examples against
# it). The end-to-end test runs even when a test failed, and its verdict closes the output.
cargo test --workspace --doc --locked
cargo test --workspace --benches --locked
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast || status=$?
else
  cargo test --workspace --lib --bins --tests --locked --no-fail-fast || status=$?
fi
ATLAS_BUILD_PROFILE=dev scripts/e2e.sh || status=$?
if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED (the cargo tests' summary, then the end-to-end test's, are above)" >&2
fi
exit "$status"

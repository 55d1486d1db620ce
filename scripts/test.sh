#!/usr/bin/env bash
# Runs every check CI runs: formatting, lints, and all tests against a real PostgreSQL and
# Redis (started here when they are not running). Each test creates its own database.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

export ATLAS_SAMPLES_DIR="${ATLAS_SAMPLES_DIR:-$(cd .. && pwd)/shared/data}"
export ATLAS_TEST_DATABASE_URL="${ATLAS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ATLAS_TEST_REDIS_URL="${ATLAS_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked

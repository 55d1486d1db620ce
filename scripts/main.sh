#!/usr/bin/env bash
# The main job on the real sample data: starts PostgreSQL and Redis if needed, creates the
# database, applies the migrations and imports every sample in ATLAS_SAMPLES_DIR. Running it
# again imports nothing new: every record is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

samples="${ATLAS_SAMPLES_DIR:-$(cd .. && pwd)/shared/data}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/atlas}"

database_name="${DATABASE_URL##*/}"
database_name="${database_name%%\?*}"
server_url="${DATABASE_URL%/*}/postgres"
if ! psql "$server_url" -tAc "select 1 from pg_database where datname = '$database_name'" | grep -q 1; then
  echo "creating database $database_name"
  psql "$server_url" -qc "create database \"$database_name\""
fi

cargo build --release --locked --bin indexer
indexer=target/release/indexer
export ATLAS_LOG_FORMAT="${ATLAS_LOG_FORMAT:-text}"

"$indexer" migrate

import() {
  local format=$1
  shift
  echo
  echo "== $format: $*"
  # Exit status 3 means some items were rejected; they are listed, and the rest imported.
  "$indexer" import --skip-migrations --format "$format" "$@" || [ $? -eq 3 ]
}

import orcid "$samples/orcid/summaries"
import openalex "$samples/openalex/works-2022-schema.jsonl" "$samples/openalex/works-2024-schema.jsonl"
import crossref "$samples/crossref/works-a.jsonl" "$samples/crossref/works-b.jsonl"
import hal "$samples/hal"
import dblp-acm "$samples/dblp-acm/dblp.csv" "$samples/dblp-acm/acm.csv"

echo
echo "== records in PostgreSQL (current versions by source)"
psql "$DATABASE_URL" -c "select source, count(*) as records from current_raw_records group by source order by source"
psql "$DATABASE_URL" -c "select count(*) as profiles, (select count(*) from profile_identities) as identities from author_profiles"

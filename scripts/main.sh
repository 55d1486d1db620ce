#!/usr/bin/env bash
# The main job on the real sample data: starts PostgreSQL and Redis if needed, creates the
# database, applies the migrations, imports every sample in ATLAS_SAMPLES_DIR, starts the
# search API (with the change-feed follower keeping the indexes current), runs the matcher
# for every profile and groups records into works, prints example searches, and serves
# until stopped with ctrl-c. Running it again imports and proposes nothing new.
# ATLAS_SERVE=false stops after the import.
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

cargo build --release --locked --bin indexer --bin search-api --bin matcher
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

if [ "${ATLAS_SERVE:-true}" = "false" ]; then
  exit 0
fi

export ATLAS_HTTP_ADDR="${ATLAS_HTTP_ADDR:-127.0.0.1:7700}"
export ATLAS_INDEX_DIR="${ATLAS_INDEX_DIR:-data/indexes}"
# One line per request would bury the examples; lifecycle and warnings stay.
export ATLAS_LOG="${ATLAS_LOG:-info,sqlx=warn,tantivy=warn,search_api::routes=warn}"
api="http://$ATLAS_HTTP_ADDR"
echo
echo "== starting search-api on $api (indexes in $ATLAS_INDEX_DIR; built on first start)"
target/release/search-api &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM EXIT
for _ in $(seq 1 600); do
  if curl -fsS "$api/health/ready" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 $server 2>/dev/null; then
    echo "search-api stopped; see its log above" >&2
    exit 1
  fi
  sleep 1
done

echo
echo "== matching every profile and grouping records into works"
ATLAS_SEARCH_URL="$api" target/release/matcher run
psql "$DATABASE_URL" -c "
  select p.display_name as profile, c.status, c.match_score as score,
         (select string_agg(reason ->> 'type', ', ') from jsonb_array_elements(c.match_reasons) reason) as reasons,
         left(coalesce(r.data ->> 'title', r.data -> 'title' ->> 0, ''), 50) as record
  from candidate_matches c
  join author_profiles p on p.id = c.profile_id
  join raw_records r on r.id = c.raw_record_id
  order by c.match_score desc, p.display_name
  limit 5"
psql "$DATABASE_URL" -c "
  select (select count(*) from candidate_matches) as candidates,
         (select count(*) from candidate_matches where status = 'auto_confirmed') as auto_confirmed,
         (select count(*) from canonical_works) as works,
         (select count(*) from canonical_works where jsonb_array_length(merged_from) > 1) as works_from_several_records"

example() {
  local title=$1 path=$2 body=$3
  echo
  echo "-- $title"
  echo "curl -s $api$path -H 'content-type: application/json' -d '$body'"
  curl -s "$api$path" -H 'content-type: application/json' -d "$body" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({k: r[k] for k in r if k in ("hits","estimatedTotalHits","totalHits","facetDistribution","results")}, ensure_ascii=False)[:1500])'
}

example "a name with its accents lost: Ugur Cetintemel finds Uğur Çetintemel" \
  /indexes/records/search '{"q": "Ugur Cetintemel", "limit": 3, "attributesToRetrieve": ["title", "authors", "source"]}'
example "a title with a typo and the last word still being typed" \
  /indexes/records/search '{"q": "incremental maintenence of aggreg", "limit": 3, "attributesToRetrieve": ["title", "year", "source"]}'
example "a librarian's view of unverified HAL and OpenAlex records, with facets" \
  /indexes/records/search '{"q": "", "filter": "state = none AND source IN [hal, openalex] AND year >= 2015", "facets": ["source", "year", "state"], "limit": 2, "attributesToRetrieve": ["title", "source", "year"]}'
example "candidate records for a person, with what matched" \
  /candidates '{"profiles": [{"id": "example", "names": ["Çetintemel, Uğur", "U. Cetintemel"], "titles": [], "orcid": null}], "limit_per_profile": 3}'

echo
echo "search-api is serving on $api (Meilisearch-compatible: point a Meilisearch client or UI at it)."
echo "It follows PostgreSQL: import more records and they become searchable. Stop with ctrl-c."
wait $server

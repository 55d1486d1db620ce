#!/usr/bin/env bash
# The main job on the real sample data: starts PostgreSQL and Redis if needed, creates the
# database, applies the migrations, imports every sample in ATLAS_SAMPLES_DIR, starts the
# search API (with the change-feed follower keeping the indexes current), runs the matcher
# for every profile and groups records into works, prints example searches, and serves
# until stopped with ctrl-c (or SIGTERM). Running it again imports and proposes nothing new
# and reuses the indexes.
#
# Every default can be overridden from the environment: DATABASE_URL, REDIS_URL,
# ATLAS_HTTP_ADDR, ATLAS_INDEX_DIR, ATLAS_SAMPLES_DIR, ATLAS_LOG, ATLAS_LOG_FORMAT and
# the other variables of .env.example. Besides them:
#   ATLAS_BUILD_PROFILE=release|dev  which binaries to build and run (default release;
#                                    dev builds faster and runs slower; CI uses dev)
#   ATLAS_SERVE=false                stop after the import
#   ATLAS_READY_TIMEOUT_SECS=600     longest wait for the search API to become ready
# Exit status: 0 after a clean stop on ctrl-c/SIGTERM while serving (or after the import
# with ATLAS_SERVE=false); 130/143 when interrupted before serving; otherwise the status of
# the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# The dev build selects the workspace's packages with `--examples` (there are none) so that
# cargo resolves dependency features as it does for the tests: after `cargo test` or
# `cargo nextest run`, as in scripts/test.sh, it rebuilds nothing. `--bin …` alone would
# build a second copy of the crates and of some dependencies with other features.
case "${ATLAS_BUILD_PROFILE:-release}" in
  release)
    cargo_build=(--release --bin indexer --bin search-api --bin matcher)
    profile_dir=release
    ;;
  dev | debug)
    cargo_build=(--workspace --exclude atlas-benches --bins --examples)
    profile_dir=debug
    ;;
  *)
    echo "main.sh: ATLAS_BUILD_PROFILE must be 'release' or 'dev', not '$ATLAS_BUILD_PROFILE'" >&2
    exit 2
    ;;
esac

samples="${ATLAS_SAMPLES_DIR:-$(cd .. && pwd)/shared/data}"
if [ ! -d "$samples/orcid" ]; then
  echo "main.sh: no sample data in '$samples' (set ATLAS_SAMPLES_DIR)" >&2
  exit 1
fi
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/atlas}"
export ATLAS_LOG_FORMAT="${ATLAS_LOG_FORMAT:-text}"
# The given-name variant tables of the samples, for the search API and the matcher (their
# own default is ../shared/data/names, which is wrong when ATLAS_SAMPLES_DIR is elsewhere).
if [ -z "${ATLAS_NAME_VARIANTS:-}" ] && [ -f "$samples/names/given-name-variants.csv" ]; then
  export ATLAS_NAME_VARIANTS="$samples/names/given-name-variants.csv,$samples/names/nicknames.csv"
fi

# Every long step runs as a child that a signal stops at once: bash runs a trap only once
# the foreground command has finished, so `child` (the current step) and `server` (the
# search API) are started in the background and waited for.
child=
server=
serving=false
stop_children() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    child=
  fi
  if [ -n "$server" ]; then
    echo
    echo "== stopping search-api"
    kill -TERM "$server" 2>/dev/null || true
    local status=0
    wait "$server" || status=$?
    server=
    return "$status"
  fi
}
on_signal() {
  local name=$1 status=$2
  trap '' INT TERM
  echo
  echo "main.sh: $name received"
  if [ "$serving" = true ]; then
    # Stopping is what ctrl-c is for once serving: the status is the search API's own.
    status=0
  fi
  stop_children || status=$?
  if [ "$serving" = true ] && [ "$status" -eq 0 ]; then
    echo "search-api stopped cleanly"
  fi
  trap - EXIT
  exit "$status"
}
trap 'on_signal SIGINT 130' INT
trap 'on_signal SIGTERM 143' TERM
trap 'stop_children || true' EXIT

run() {
  "$@" &
  child=$!
  local status=0
  wait "$child" || status=$?
  child=
  return "$status"
}

run scripts/services.sh

database_name="${DATABASE_URL##*/}"
database_name="${database_name%%\?*}"
server_url="${DATABASE_URL%/*}/postgres"
if ! psql "$server_url" -tAc "select 1 from pg_database where datname = '$database_name'" | grep -q 1; then
  echo "creating database $database_name"
  psql "$server_url" -qc "create database \"$database_name\""
fi

run cargo build --locked "${cargo_build[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps --locked \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/$profile_dir"

run "$bin/indexer" migrate

import() {
  local format=$1
  shift
  echo
  echo "== $format: $*"
  # Exit status 3 means some items were rejected; they are listed, and the rest imported.
  run "$bin/indexer" import --skip-migrations --format "$format" "$@" || [ $? -eq 3 ]
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
"$bin/search-api" &
server=$!
ready=false
for _ in $(seq 1 "${ATLAS_READY_TIMEOUT_SECS:-600}"); do
  if curl -fsS "$api/health/ready" >/dev/null 2>&1; then
    ready=true
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    status=0
    wait "$server" || status=$?
    server=
    echo "main.sh: search-api stopped with status $status before it was ready; see its log above" >&2
    exit 1
  fi
  sleep 1
done
if [ "$ready" != true ]; then
  echo "main.sh: search-api not ready at $api/health/ready after ${ATLAS_READY_TIMEOUT_SECS:-600} s:" >&2
  curl -sS "$api/health/ready" >&2 || true
  exit 1
fi

echo
echo "== matching every profile and grouping records into works"
ATLAS_SEARCH_URL="$api" run "$bin/matcher" run
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
         (select count(*) from canonical_works work
           where (select count(distinct (entry->>'source', entry->>'source_id'))
                  from jsonb_array_elements(work.merged_from) entry) > 1) as works_from_several_records"

# The examples of README.md's "Trying it" (scripts/e2e.sh checks that they stay the same).
example() {
  local title=$1 path=$2 body=$3
  # With a master key, the examples send it (and print where it comes from, not its value).
  local auth=() shown_auth=""
  if [ -n "${ATLAS_MASTER_KEY:-}" ]; then
    auth=(-H "Authorization: Bearer $ATLAS_MASTER_KEY")
    shown_auth=" -H \"Authorization: Bearer \$ATLAS_MASTER_KEY\""
  fi
  echo
  echo "-- $title"
  echo "curl -s $api$path -H 'content-type: application/json'$shown_auth -d '$body'"
  curl -s "$api$path" -H 'content-type: application/json' "${auth[@]}" -d "$body" \
    | python3 -c '
import json, sys
r = json.load(sys.stdin)
if "message" in r and "code" in r:
    print("error " + r["code"] + ": " + r["message"])
else:
    print(json.dumps({k: r[k] for k in r if k in ("hits", "estimatedTotalHits", "totalHits", "facetDistribution", "results")}, ensure_ascii=False)[:1500])'
}

example "a name with its accents lost: Ugur Cetintemel finds Uğur Çetintemel" \
  /indexes/records/search '{"q": "Ugur Cetintemel", "limit": 3, "attributesToRetrieve": ["title", "authors", "source"]}'
example "a title with a typo and the last word still being typed" \
  /indexes/records/search '{"q": "incremental maintenence of aggreg", "limit": 3, "attributesToRetrieve": ["title", "year", "source"]}'
example "a librarian's view of unverified HAL and OpenAlex records, with facets" \
  /indexes/records/search '{"q": "", "filter": "state = none AND source IN [hal, openalex] AND year >= 2015", "facets": ["source", "year", "state"], "limit": 2, "attributesToRetrieve": ["title", "source", "year", "state"]}'
example "candidate records for a person, with what matched" \
  /candidates '{"profiles": [{"id": "example", "names": ["Çetintemel, Uğur", "U. Cetintemel"], "titles": [], "orcid": null}], "limitPerProfile": 3}'

echo
echo "search-api is serving on $api (Meilisearch-compatible: point a Meilisearch client or UI at it)."
echo "It follows PostgreSQL: import more records and they become searchable. Stop with ctrl-c."
serving=true
status=0
wait "$server" || status=$?
# Only reached when search-api stopped by itself (a signal to this script exits in on_signal).
server=
echo "main.sh: search-api stopped with status $status" >&2
exit "$status"

#!/usr/bin/env bash
# End-to-end test of the main job as a newcomer runs it: `scripts/main.sh` on the real
# samples, in a database, index directory, port and Redis key prefix of its own; then the
# README's own curl examples against it, their answers compared with the ones README.md
# shows (so the README cannot drift from what works); the matcher's candidates in
# PostgreSQL; a second run (ATLAS_SERVE=false) that adds nothing; a clean stop on SIGINT;
# serving again, which reuses the indexes and proposes nothing new; a record imported
# while it serves becoming searchable, and its new version replacing it; a clean stop on
# SIGTERM. Everything it creates is removed when it ends, also on failure. Run by
# scripts/test.sh after the cargo tests, whose dev binaries main.sh then reuses.
#
#   ATLAS_BUILD_PROFILE            dev (default here) or release
#   ATLAS_TEST_DATABASE_URL        server in which the database is created (postgres db)
#   ATLAS_TEST_REDIS_URL           Redis of the search API (a key prefix of its own)
#   ATLAS_E2E_READY_TIMEOUT_SECS   longest wait for main.sh to serve (default 900)
#   ATLAS_E2E_KEEP=true            keep the database and directory after a failure
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

export ATLAS_BUILD_PROFILE="${ATLAS_BUILD_PROFILE:-dev}"
export ATLAS_SAMPLES_DIR="${ATLAS_SAMPLES_DIR:-$(cd .. && pwd)/shared/data}"
test_server_url="${ATLAS_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
redis_url="${ATLAS_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
ready_timeout="${ATLAS_E2E_READY_TIMEOUT_SECS:-900}"

started=$(date +%s)
# The epoch in the name lets scripts/test.sh drop the databases of runs killed midway.
run_id="e2e_${started}_$$_$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
database="atlas_test_$run_id"
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/atlas-$run_id.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis_prefix="atlas_test:$run_id:"

export DATABASE_URL="${test_server_url%/*}/$database"
export REDIS_URL="$redis_url"
export ATLAS_REDIS_KEY_PREFIX="$redis_prefix"
export ATLAS_HTTP_ADDR="127.0.0.1:$port"
export ATLAS_INDEX_DIR="$work_dir/indexes"
export ATLAS_LOG_FORMAT=text
unset ATLAS_SERVE ATLAS_MASTER_KEY
api="http://$ATLAS_HTTP_ADDR"

say() { printf '\ne2e: %s\n' "$*"; }
failures=0
fail() {
  printf 'e2e: FAIL: %s\n' "$*" >&2
  failures=$((failures + 1))
}
# Stops here: what follows depends on what failed.
die() {
  printf 'e2e: FAIL: %s\n' "$*" >&2
  exit 1
}
log_tail() {
  printf -- '--- last lines of %s\n' "$1" >&2
  tail -n "${2:-40}" "$1" >&2 || true
  printf -- '---\n' >&2
}

main_pid=
api_pid=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$main_pid" ] && kill -0 "$main_pid" 2>/dev/null; then
    # main.sh leads a process group of its own (set -m below): stop all of it.
    kill -TERM -- "-$main_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$main_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$main_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ "${ATLAS_E2E_KEEP:-false}" = true ]; then
    echo "e2e: kept database $database and $work_dir" >&2
  else
    psql "$test_server_url" -qc "drop database if exists \"$database\" with (force)" >/dev/null 2>&1 \
      || echo "e2e: could not drop database $database" >&2
    rm -rf "$work_dir"
  fi
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$redis_url" --scan --pattern "$redis_prefix*" 2>/dev/null \
      | xargs -r redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
  fi
  if [ "$status" -eq 0 ]; then
    say "passed in $(($(date +%s) - started)) s"
  else
    say "FAILED (status $status) after $(($(date +%s) - started)) s (ATLAS_E2E_KEEP=true keeps the logs, database and indexes)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sql() { psql "$DATABASE_URL" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }
counts() {
  sql "select 'raw_records ' || (select count(*) from raw_records)
       || ', current records ' || (select count(*) from current_raw_records)
       || ', profiles ' || (select count(*) from author_profiles)
       || ', identities ' || (select count(*) from profile_identities)
       || ', candidates ' || (select count(*) from candidate_matches)
       || ', canonical works ' || (select count(*) from canonical_works)
       || ', authorships ' || (select count(*) from work_authorships)
       || ', verification acts ' || (select count(*) from verification_acts)"
}

say "database $database, index dir $ATLAS_INDEX_DIR, $api, Redis prefix $redis_prefix, profile $ATLAS_BUILD_PROFILE"

# Starts scripts/main.sh in the background with its output in $1, and waits until it
# serves. Job control gives it a process group of its own and keeps SIGINT deliverable: a
# non-interactive shell starts background commands with SIGINT ignored, and a shell cannot
# trap what it was started ignoring. Sets main_pid and api_pid.
start_main() {
  local log=$1 deadline=$((SECONDS + ready_timeout)) status
  say "starting scripts/main.sh (log: $log)"
  set -m
  scripts/main.sh >"$log" 2>&1 &
  main_pid=$!
  set +m
  until grep -q "search-api is serving on $api" "$log" \
    && curl -fsS "$api/health/ready" >/dev/null 2>&1; do
    if ! kill -0 "$main_pid" 2>/dev/null; then
      status=0
      wait "$main_pid" || status=$?
      main_pid=
      log_tail "$log" 60
      die "scripts/main.sh exited with status $status before serving (expected: 'search-api is serving on $api' and /health/ready answering 200)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$log" 60
      die "scripts/main.sh did not serve within $ready_timeout s (expected: 'search-api is serving on $api' in its log and $api/health/ready answering 200)"
    fi
    sleep 1
  done
  say "main.sh serving after $(($(date +%s) - started)) s"
  api_pid=$(ps -o pid=,comm= --ppid "$main_pid" | awk '$2 == "search-api" { print $1 }')
  [ -n "$api_pid" ] || fail "no search-api process found among the children of main.sh ($main_pid)"
}

# Sends signal $1 to main.sh (to it alone: its trap must stop the search API) and checks
# that it exits 0 with the search API stopped cleanly and nothing left running.
stop_main() {
  local signal=$1 log=$2 status=
  say "stopping scripts/main.sh with SIG$signal"
  kill "-$signal" "$main_pid"
  for _ in $(seq 1 120); do
    if ! kill -0 "$main_pid" 2>/dev/null; then
      status=0
      wait "$main_pid" || status=$?
      break
    fi
    sleep 0.5
  done
  if [ -z "$status" ]; then
    log_tail "$log"
    fail "main.sh still running 60 s after SIG$signal"
    return
  fi
  main_pid=
  echo "main.sh exited with status $status"
  [ "$status" = 0 ] || { log_tail "$log"; fail "expected main.sh to exit 0 after SIG$signal while serving; found $status"; }
  grep -q "search-api stopped cleanly" "$log" \
    || { log_tail "$log"; fail "expected 'search-api stopped cleanly' in the log of main.sh after SIG$signal"; }
  if [ -n "$api_pid" ] && kill -0 "$api_pid" 2>/dev/null; then
    fail "search-api (pid $api_pid) still running after main.sh stopped"
  fi
  if curl -fsS "$api/health" >/dev/null 2>&1; then
    fail "something still answers on $api after main.sh stopped"
  fi
}

# 1. The first command, in the background, as a newcomer runs it.
start_main "$work_dir/main-1.log"

# 2. What main.sh reported: every import, the records per source, the matcher's work.
for format in orcid openalex crossref hal dblp-acm; do
  grep -q "^== $format: " "$work_dir/main-1.log" || fail "main.sh log has no '== $format:' import section"
done
sources=$(sql "select string_agg(source || '=' || n, ' ' order by source) from (select source, count(*) n from current_raw_records group by source) s")
echo "records per source: $sources"
for source in acm crossref dblp hal openalex orcid; do
  [[ " $sources" == *" $source="* ]] || fail "no current records of source '$source' in PostgreSQL (found: $sources)"
done

# Every record keeps its complete original: the numbers too (0.9970999956130981 stays so).
FILE="$ATLAS_SAMPLES_DIR/openalex/works-2024-schema.jsonl" \
  QUERY="select source_id, data::text from current_raw_records where source = 'openalex'" \
  python3 - <<'PY' || fail "OpenAlex records not stored exactly (see above)"
import json, os, subprocess, sys
path = os.environ["FILE"]
originals = {}
for line in open(path, encoding="utf-8"):
    if line.strip():
        record = json.loads(line)
        originals[record["id"].rsplit("/", 1)[-1]] = record
rows = subprocess.run(["psql", os.environ["DATABASE_URL"], "-XAt", "-F", "\t", "-c", os.environ["QUERY"]],
                      capture_output=True, text=True, check=True).stdout.splitlines()
stored = dict(row.split("\t", 1) for row in rows)
differ = [key for key, record in originals.items() if key not in stored or json.loads(stored[key]) != record]
print(f"{len(originals) - len(differ)} of {len(originals)} records of {os.path.basename(path)} stored exactly")
if differ:
    print(f"e2e: FAIL: expected every record of {path} stored exactly as in the file; differ: {differ[:5]}",
          file=sys.stderr)
    sys.exit(1)
PY

# 3. The README's curl examples, taken from README.md itself, against this server.
say "running the curl examples of README.md against $api"
README="$repo/README.md" API="$api" MAIN_LOG="$work_dir/main-1.log" python3 - <<'PY' || fail "README examples (see above)"
import json, os, re, shlex, sys, unicodedata, urllib.request, urllib.error

readme = open(os.environ["README"], encoding="utf-8").read()
api = os.environ["API"]

def fold(text):
    text = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()

# Every `curl` command in a fenced block, with its continuation lines, and the answer shown
# for it: a ```json block right after the block of a single curl.
blocks = re.findall(r"^```(\w*)\n(.*?)^```", readme, re.S | re.M)
examples = []
for number, (language, text) in enumerate(blocks):
    commands = [line.strip() for line in text.replace("\\\n", " ").splitlines()
                if line.strip().startswith("curl ")]
    shown = None
    if len(commands) == 1 and number + 1 < len(blocks) and blocks[number + 1][0] == "json":
        shown = blocks[number + 1][1]
    examples.extend((command, shown) for command in commands)

def contains(live, shown, path="answer"):
    """Whether `live` contains `shown`: objects by the keys shown, lists by their first
    items, numbers to 1e-6. Returns where they differ, or None."""
    if isinstance(shown, dict):
        if not isinstance(live, dict):
            return f"{path}: README shows an object, found {live!r}"
        for key, value in shown.items():
            if key not in live:
                return f"{path}.{key}: README shows {value!r}, found no such key"
            difference = contains(live[key], value, f"{path}.{key}")
            if difference:
                return difference
        return None
    if isinstance(shown, list):
        if not isinstance(live, list) or len(live) < len(shown):
            return f"{path}: README shows {len(shown)} items {shown!r}, found {live!r}"
        for index, value in enumerate(shown):
            difference = contains(live[index], value, f"{path}[{index}]")
            if difference:
                return difference
        return None
    if isinstance(shown, (int, float)) and not isinstance(shown, bool) \
            and isinstance(live, (int, float)) and not isinstance(live, bool):
        return None if abs(live - shown) <= 1e-6 else f"{path}: README shows {shown!r}, found {live!r}"
    return None if live == shown else f"{path}: README shows {shown!r}, found {live!r}"

def parse(command):
    args = shlex.split(command, comments=True)[1:]
    url, method, body, headers = None, "GET", None, {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-s", "-S", "-sS", "-f", "-fsS"):
            pass
        elif arg in ("-H", "--header"):
            i += 1
            name, _, value = args[i].partition(":")
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data", "--data-raw"):
            i += 1
            body = args[i]
            method = "POST" if method == "GET" else method
        elif arg in ("-X", "--request"):
            i += 1
            method = args[i]
        elif arg.startswith("http://127.0.0.1:7700/"):
            url = api + arg[len("http://127.0.0.1:7700"):]
        else:
            raise ValueError(f"unsupported curl argument {arg!r}")
        i += 1
    if url is None:
        raise ValueError("no http://127.0.0.1:7700 URL")
    return method, url, body, headers

def call(method, url, body, headers):
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")

problems = []
def expect(condition, what, found):
    if not condition:
        problems.append(f"expected {what}; found {found}")

def check_accent(request, r):
    hits = r.get("hits", [])
    found = [h.get("authors") for h in hits]
    expect(any("Çetintemel" in json.dumps(h.get("authors"), ensure_ascii=False) for h in hits),
           "a hit whose authors include 'Çetintemel' (accents lost in the query)", found)

def check_typo(request, r):
    titles = [h.get("title") for h in r.get("hits", [])]
    # Every word found: 'maintenence' by its typo, 'aggreg' as the prefix being typed.
    expect(titles and fold(titles[0]) == fold("Incremental computation and maintenance of temporal aggregates"),
           "first hit 'Incremental computation and maintenance of temporal aggregates'", titles)

def check_librarian(request, r):
    hits = r.get("hits", [])
    expect(hits, "hits", r)
    for h in hits:
        expect(h.get("source") in ("hal", "openalex") and (h.get("year") or 0) >= 2015
               and h.get("state", "none") == "none",
               "only unverified hal/openalex records from 2015 on", h)
    facets = r.get("facetDistribution", {})
    expect(set(facets.get("source", {})) and set(facets.get("source", {})) <= {"hal", "openalex"},
           "source facets of hal and openalex only", facets.get("source"))
    expect(list(facets.get("state", {})) == ["none"], "state facet 'none' only", facets.get("state"))
    expect(facets.get("year") and all(int(y) >= 2015 for y in facets["year"]),
           "year facets from 2015 on", facets.get("year"))
    total = r.get("estimatedTotalHits", r.get("totalHits"))
    expect(total == sum(facets.get("source", {}).values()),
           "estimatedTotalHits equal to the sum of the source facets", (total, facets.get("source")))

def check_muller(request, r):
    hits = r.get("hits", [])
    expect(hits, "hits for Muller", r.get("estimatedTotalHits"))
    expect(any("muller" in fold(json.dumps(h, ensure_ascii=False)) for h in hits),
           "a hit mentioning Müller/Muller", [h.get("title") for h in hits])
    for h in hits:
        expect((h.get("year") or 0) >= 2010, "years from 2010 on", h.get("year"))
    facets = r.get("facetDistribution", {})
    expect("source" in facets and "year" in facets, "source and year facets", facets)

def check_candidates(request, r):
    results = r.get("results", [])
    expect(len(results) == 1 and results[0].get("profileId") == "example",
           "one result for profile 'example'", [x.get("profileId") for x in results])
    hits = results[0].get("hits", []) if results else []
    expect(hits, "candidate hits", results)
    for h in hits:
        expect(h.get("recordId") and h.get("matches")
               # DBLP-ACM spells him `?etintemel` once: a one-typo match is a match.
               and any("etintemel" in fold(m.get("matchedValue", "")) for m in h["matches"]),
               "each candidate to say it matched a Cetintemel name", h.get("matches"))

checks = {
    ("/indexes/records/search", "Ugur Cetintemel"): check_accent,
    ("/indexes/records/search", "incremental maintenence of aggreg"): check_typo,
    ("/indexes/records/search", ""): check_librarian,
    ("/indexes/records/search", "Muller"): check_muller,
    ("/candidates", None): check_candidates,
}
seen = set()
for command, shown in examples:
    try:
        method, url, body, headers = parse(command)
    except ValueError as error:
        problems.append(f"cannot run README example {command!r}: {error}")
        continue
    path = url[len(api):].split("?")[0]
    request = json.loads(body) if body else {}
    key = (path, request.get("q") if path != "/candidates" else None)
    print(f"  {method} {path} {body or ''}")
    status, answer = call(method, url, body, headers)
    if status != 200:
        problems.append(f"README example {command!r}: expected HTTP 200, found {status}: {answer}")
        continue
    check = checks.get(key)
    if check is None:
        problems.append(f"README example {command!r} has no check in scripts/e2e.sh; add one")
        continue
    seen.add(key)
    before = len(problems)
    check(request, answer)
    if shown is None:
        problems.append(f"README example {command!r} shows no answer (a ```json block after it)")
    else:
        try:
            difference = contains(answer, json.loads(shown))
        except json.JSONDecodeError as error:
            difference = f"the answer README shows is not JSON: {error}"
        if difference:
            problems.append(f"README example {command!r}: {difference}")
    print("    ok" if len(problems) == before else "    FAILED")
# The examples main.sh prints are the README's.
readme_bodies = {parse(command)[2] for command, _ in examples}
printed = 0
for line in open(os.environ["MAIN_LOG"], encoding="utf-8"):
    if line.startswith("curl "):
        printed += 1
        body = parse(line.replace(api, "http://127.0.0.1:7700"))[2]
        if body not in readme_bodies:
            problems.append(f"scripts/main.sh prints the example {body!r}, which README.md does not show")
if printed == 0:
    problems.append("scripts/main.sh printed no curl example")
for key in checks.keys() - seen:
    problems.append(f"README.md no longer has the example {key}; expected it among {len(examples)} curl examples")
for problem in problems:
    print("e2e: FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# 4. The matcher's candidates in PostgreSQL: every ORCID profile with candidates that
# carry their reasons and a score in [0, 1].
say "checking the candidates in PostgreSQL"
psql "$DATABASE_URL" -Xq -c "
  select p.display_name as profile, count(c.*) as candidates,
         count(*) filter (where c.status = 'auto_confirmed') as auto_confirmed,
         round(max(c.match_score)::numeric, 3) as best_score
  from author_profiles p left join candidate_matches c on c.profile_id = p.id
  group by p.display_name order by p.display_name"
profiles=$(sql "select count(*) from author_profiles")
# 8 ORCID summaries, one of which is an error document ("record locked") and is rejected.
[ "$profiles" = 7 ] || fail "expected the 7 ORCID profiles of the samples; found $profiles"
# Every profile with works in its ORCID record has candidates, and each of its ORCID works
# is one of them (one profile, Norli Ali, lists no works and appears in no other sample).
with_works=$(sql "select count(*) from author_profiles p
                  where exists (select 1 from current_raw_records r
                                where r.source = 'orcid' and r.data ->> 'orcid' = p.primary_orcid)")
[ "$with_works" -ge 6 ] || fail "expected at least 6 profiles with works in their ORCID record; found $with_works"
missing=$(sql "select coalesce(string_agg(p.display_name || ': ' || n, ', '), '') from (
                 select p.id, count(*) n from author_profiles p
                 join current_raw_records r on r.source = 'orcid' and r.data ->> 'orcid' = p.primary_orcid
                 where not exists (select 1 from candidate_matches c
                                   where c.profile_id = p.id and c.raw_record_id = r.id)
                 group by p.id) m join author_profiles p using (id)")
[ -z "$missing" ] || fail "expected each profile's ORCID works among its candidates; works without a candidate: $missing"
bad=$(sql "select count(*) from candidate_matches
           where jsonb_typeof(match_reasons) <> 'array' or jsonb_array_length(match_reasons) = 0
              or match_score < 0 or match_score > 1")
[ "$bad" = 0 ] || fail "expected every candidate to have reasons and a score in [0, 1]; $bad do not"
reasons=$(sql "select string_agg(distinct reason ->> 'type', ', ')
               from candidate_matches c, jsonb_array_elements(c.match_reasons) reason")
echo "reasons seen: $reasons"
[[ "$reasons" == *orcid* ]] || fail "expected some candidate with an ORCID reason; reasons seen: $reasons"

# 5. A second run, while the first serves, imports nothing new.
before=$(counts)
say "second run of scripts/main.sh with ATLAS_SERVE=false (log: $work_dir/main-2.log)"
status=0
ATLAS_SERVE=false scripts/main.sh >"$work_dir/main-2.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  log_tail "$work_dir/main-2.log"
  fail "second main.sh run exited with status $status; expected 0"
fi
after=$(counts)
echo "before: $before"
echo "after:  $after"
[ "$before" = "$after" ] || fail "expected the second run to change nothing; before: $before; after: $after"
summaries=$(grep -E '^inserted [0-9]+, unchanged [0-9]+, new versions [0-9]+|^profiles: created' "$work_dir/main-2.log" || true)
echo "$summaries" | sed 's/^/  /'
[ "$(echo "$summaries" | grep -c '^inserted')" = 5 ] \
  || { log_tail "$work_dir/main-2.log"; fail "expected 5 import summaries ('inserted …') in the second run; found: $summaries"; }
added=$(echo "$summaries" | grep -Ev '^inserted 0, unchanged [0-9]+, new versions 0|^profiles: created 0, updated 0' || true)
[ -z "$added" ] || fail "expected the second run's imports to insert, version and update nothing; found: $added"

# 6. ctrl-c: SIGINT to main.sh stops the search API cleanly, and nothing of it remains.
stop_main INT "$work_dir/main-1.log"

# 7. Serving again reuses the indexes and proposes nothing new.
before=$(counts)
start_main "$work_dir/main-3.log"
after=$(counts)
echo "before: $before"
echo "after:  $after"
[ "$before" = "$after" ] || fail "expected serving again to change nothing; before: $before; after: $after"
built=$(grep -c "index does not exist yet; building it" "$work_dir/main-3.log" || true)
[ "$built" = 0 ] || fail "expected the indexes of the first run to be reused; $built were built again"
grep -E '^(works|candidates|auto-confirmed):' "$work_dir/main-3.log" | sed 's/^/  /'
grep -Eq '^works: [0-9]+ groups, 0 created, 0 updated, 0 merged away' "$work_dir/main-3.log" \
  || fail "expected the matcher to group no new works; found: $(grep -E '^works:' "$work_dir/main-3.log")"
grep -Eq '^candidates: 0 new, 0 updated' "$work_dir/main-3.log" \
  || fail "expected the matcher to propose nothing new; found: $(grep -E '^candidates:' "$work_dir/main-3.log")"

# 8. A change in PostgreSQL becomes searchable: a new record, then a new version of it.
say "importing a new record and a new version of it, and searching for them"
target_dir=$(cargo metadata --format-version 1 --no-deps --locked \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
case "$ATLAS_BUILD_PROFILE" in release) indexer="$target_dir/release/indexer" ;; *) indexer="$target_dir/debug/indexer" ;; esac
word_a="zqe2e$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
word_b="xqe2e$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
doi="10.5555/atlas-e2e-$run_id"
search_hits() {
  curl -fsS "$api/indexes/records/search" -H 'content-type: application/json' \
    -d "{\"q\": \"$1\", \"attributesToRetrieve\": [\"title\", \"source\"]}" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); print(len(r["hits"]), json.dumps([h.get("title") for h in r["hits"]]))'
}
# Polls until the search for $1 has $2 hits, at most $3 seconds; prints the time taken.
await_hits() {
  local query=$1 expected=$2 limit=$3 begin=$SECONDS found=
  while [ $((SECONDS - begin)) -lt "$limit" ]; do
    found=$(search_hits "$query" || echo "error")
    if [ "${found%% *}" = "$expected" ]; then
      echo "  '$query': $expected hits after $((SECONDS - begin)) s"
      return 0
    fi
    sleep 0.5
  done
  fail "expected $expected hits for '$query' within $limit s after the import; found $found"
  return 1
}
probe() {
  local version=$1 word=$2
  printf '{"DOI": "%s", "title": ["Atlas end-to-end probe %s"], "type": "journal-article", "author": [{"given": "Uğur", "family": "Çetintemel"}], "issued": {"date-parts": [[2024]]}}\n' \
    "$doi" "$word" >"$work_dir/probe-$version.jsonl"
  if ! "$indexer" import --skip-migrations --format crossref "$work_dir/probe-$version.jsonl" \
    >"$work_dir/import-$version.log" 2>&1; then
    log_tail "$work_dir/import-$version.log"
    fail "indexer import of probe version $version failed"
  fi
}
probe 1 "$word_a"
await_hits "$word_a" 1 30 || true
probe 2 "$word_b"
versions=$(sql "select count(*) from raw_records where source = 'crossref' and source_id = '$doi'")
[ "$versions" = 2 ] || fail "expected 2 versions of $doi in raw_records; found $versions"
# The records index holds the current version of each record only.
await_hits "$word_b" 1 30 || true
await_hits "$word_a" 0 30 || true

# 9. SIGTERM stops it cleanly too.
stop_main TERM "$work_dir/main-3.log"

if [ "$failures" -ne 0 ]; then
  die "$failures check(s) failed"
fi

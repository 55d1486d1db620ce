#!/usr/bin/env python3
"""Replays the text queries of a `scale` corpus workload against a running search API,
one request at a time, and prints latency percentiles and, given the server's pid, the
server CPU time per request (utime + stime from /proc).

With `--candidates FILE` it replays candidate requests instead: the `POST /candidates`
bodies a `scale run` wrote beside its corpus (candidate-requests.jsonl), reporting
profiles per second and server CPU time per profile; `--in-flight N` keeps N requests
sent at once.

Used to compare two builds of the search API on copies of one index: start each on its
own index directory and port, then alternate passes between them.

    python3 benches/replay_workload.py --url http://127.0.0.1:7711 --key "$KEY" \
        --workload target/scale/corpus-1m-seed42/workload.jsonl --class title_prefix \
        --passes 2 --pid "$(pgrep -f 'search-api' | head -1)"
    python3 benches/replay_workload.py --url http://127.0.0.1:7711 --key "$KEY" \
        --candidates target/scale/corpus-1m-seed42/candidate-requests.jsonl --passes 2
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request


def server_cpu_secs(pid):
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the search API, e.g. http://127.0.0.1:7700")
    parser.add_argument("--key", required=True, help="a key that may search `records`")
    parser.add_argument("--workload", help="workload.jsonl of a scale corpus")
    parser.add_argument("--class", dest="query_class",
                        choices=["title_typo", "title_prefix", "author_name", "librarian_filter"])
    parser.add_argument("--candidates", help="candidate-requests.jsonl of a scale run")
    parser.add_argument("--limit", type=int, default=200, help="queries of the class replayed")
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--pid", type=int, help="the search API's pid, for its CPU time")
    parser.add_argument("--answers", help="file to write each query's hit ids to, one JSON line "
                        "per query, for comparing two builds")
    parser.add_argument("--in-flight", type=int, default=1,
                        help="candidate requests sent at once (each from its own thread)")
    args = parser.parse_args()
    if args.candidates:
        replay_candidates(args)
        return
    if not args.workload or not args.query_class:
        parser.error("give --workload and --class, or --candidates")

    with open(args.workload) as workload:
        queries = [json.loads(line) for line in workload if line.strip()]
    queries = [search_body(query) for query in queries if query["class"] == args.query_class]
    queries = queries[: args.limit]
    if not queries:
        sys.exit(f"{args.workload} holds no `{args.query_class}` query")

    for number in range(args.passes):
        latencies = []
        num_degraded = 0
        cpu_before = server_cpu_secs(args.pid)
        url = args.url.rstrip("/") + "/indexes/records/search"
        answers = []
        for body in queries:
            started = time.perf_counter()
            answer, headers = post(url, args.key, json.dumps(body).encode())
            latencies.append((time.perf_counter() - started) * 1000)
            num_degraded += bool(headers.get("atlas-search-degraded"))
            if args.answers:
                answer = json.loads(answer)
                answers.append({"q": body["q"], "hits": [hit["id"] for hit in answer["hits"]],
                                "facets": answer.get("facetDistribution"),
                                "total": answer.get("estimatedTotalHits")})
        if args.answers:
            with open(args.answers, "w") as out:
                out.writelines(json.dumps(answer) + "\n" for answer in answers)
        cpu_ms = (server_cpu_secs(args.pid) - cpu_before) * 1000 / len(latencies)
        latencies.sort()
        percentile = lambda share: latencies[min(len(latencies) - 1, int(len(latencies) * share))]
        print(f"{args.query_class} pass {number + 1}: {len(latencies)} queries, "
              f"p50 {percentile(0.5):.1f} / p90 {percentile(0.9):.1f} / p99 {percentile(0.99):.1f} ms, "
              f"mean {statistics.mean(latencies):.1f} ms, "
              + (f"server CPU {cpu_ms:.1f} ms per request, " if args.pid else "")
              + f"{num_degraded} degraded")


def search_body(query):
    """The search a workload query stands for, as the `scale` harness sends it."""
    body = {"q": query["q"], "limit": 10}
    librarian = query.get("filter")
    if librarian:
        parts = [f"state = {librarian['state']}"]
        if librarian.get("source"):
            parts.append(f"source = {librarian['source']}")
        parts += [f"year >= {librarian['year_from']}", f"year <= {librarian['year_to']}"]
        body["filter"] = " AND ".join(parts)
        body["facets"] = ["source", "year"]
    return body


def post(url, key, body):
    """Posts `body`, returns the answer's bytes and headers; exits naming the failure."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(request) as response:
            return response.read(), response.headers
    except urllib.error.HTTPError as error:
        sys.exit(f"{url} answered {error.code} to {body[:200]!r}: "
                 f"{error.read().decode(errors='replace')}")
    except urllib.error.URLError as error:
        sys.exit(f"{url} cannot be reached: {error.reason}")


def replay_candidates(args):
    with open(args.candidates) as requests:
        bodies = [line.strip().encode() for line in requests if line.strip()]
    if not bodies:
        sys.exit(f"{args.candidates} holds no request")
    num_profiles = sum(len(json.loads(body)["profiles"]) for body in bodies)
    url = args.url.rstrip("/") + "/candidates"
    for number in range(args.passes):
        cpu_before = server_cpu_secs(args.pid)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.in_flight)) as pool:
            answers = pool.map(lambda body: json.loads(post(url, args.key, body)[0]), bodies)
            num_hits = sum(len(result["hits"]) for answer in answers for result in answer["results"])
        secs = time.perf_counter() - started
        cpu_ms = (server_cpu_secs(args.pid) - cpu_before) * 1000 / num_profiles
        print(f"candidates pass {number + 1}: {num_profiles} profiles in {len(bodies)} requests "
              f"({max(1, args.in_flight)} in flight), "
              f"{num_profiles / secs:.0f} profiles/s, {num_hits / num_profiles:.1f} candidates per profile"
              + (f", server CPU {cpu_ms:.2f} ms per profile" if args.pid else ""))


if __name__ == "__main__":
    main()

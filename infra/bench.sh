#!/usr/bin/env bash
# The body of `make bench`: starts the emulators (unless running), prints the
# figures of infra/bench and of the Go benchmarks, and stops what it started.
# Nothing here asserts a timing; the targets live in the issues.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

started=()
cleanup() {
	local status=$? i
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do
		"${started[i]}" stop || true
	done
	exit "$status"
}
trap cleanup EXIT

for script in infra/dynamodb-local.sh infra/sqs-emulator.sh; do
	if ! "$script" status >/dev/null 2>&1; then
		started+=("$script")
		"$script" start
	fi
done

export HERALD_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000
export HERALD_TEST_SQS_ENDPOINT=http://127.0.0.1:5000
go run ./infra/bench "$@"
echo "== go benchmarks"
go test -run '^$' -bench . -benchmem ./...

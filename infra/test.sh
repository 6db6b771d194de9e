#!/usr/bin/env bash
# The body of `make test` after tools and lint: starts the emulators, runs
# every Go test against them, validates and builds the SAM template, fuzzes
# the local API with schemathesis, and stops the emulators it started however
# it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SAM="$ROOT/.tools/venv/bin/sam"
export SAM_CLI_TELEMETRY=0
# sam validate and the SDK need a region even offline; nothing here calls AWS.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"

started=()
child=""
cleanup() {
	local status=$?
	local i
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do
		"${started[i]}" stop || true
	done
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step prints a banner and the time each step took, so slow CI runs show
# where. The command runs in the background and we wait for it, because bash
# runs a signal trap only once the foreground command ends: this way Ctrl-C or
# a CI timeout stops the step and the emulators at once.
step() {
	local name=$1
	shift
	echo "==> $name" >&2
	local t=$SECONDS status=0
	"$@" &
	child=$!
	wait "$child" || status=$?
	child=""
	if [ "$status" -ne 0 ]; then
		echo "<== $name FAILED (exit $status, $((SECONDS - t)) s)" >&2
		return "$status"
	fi
	echo "<== $name ($((SECONDS - t)) s)" >&2
}

# start_emulator leaves an emulator running by someone else (make run, a
# second terminal) alone, and stops at the end only the ones it started.
start_emulator() {
	local script=$1
	if "$script" status >/dev/null 2>&1; then
		echo "$script: already running, leaving it running" >&2
		return
	fi
	started+=("$script")
	"$script" start
}

# Not through step: start_emulator must run in this shell to record what it
# started.
start_emulator infra/dynamodb-local.sh
start_emulator infra/sqs-emulator.sh

# One test binary per core (2 in CI): -race multiplies memory, which DynamoDB
# Local (~400 MB) shares with us. A hung package fails after GO_TEST_TIMEOUT
# instead of eating the CI budget (make test must stay well under 15 minutes).
step "go test" env \
	HERALD_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 \
	HERALD_TEST_SQS_ENDPOINT=http://127.0.0.1:5000 \
	HERALD_TEST_S3_ENDPOINT=http://127.0.0.1:5000 \
	HERALD_TEST_SCHEDULER_ENDPOINT=http://127.0.0.1:5000 \
	go test -race -count=1 -p "$(nproc 2>/dev/null || echo 2)" -timeout "${GO_TEST_TIMEOUT:-5m}" ./...

step "sam validate --lint" "$SAM" validate --lint
step "sam build" "$SAM" build
# Each function's bootstrap, as SAM built it, must stay under 24 MiB (the Makefile says why).
check_sizes() {
	local f size status=0
	for f in .aws-sam/build/*Function/bootstrap; do
		size=$(wc -c <"$f")
		printf '  %-40s %6.1f MiB\n' "$f" "$(awk "BEGIN { print $size / 1048576 }")"
		if [ "$size" -gt 25165824 ]; then
			echo "$f is over 24 MiB" >&2
			status=1
		fi
	done
	return "$status"
}
step "lambda sizes" check_sizes
step "schemathesis" infra/schemathesis.sh

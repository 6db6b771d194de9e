#!/usr/bin/env bash
# The body of `make test`: installs the test tools (in the background, while
# it lints), starts the emulators, runs every Go test against them,
# validates and builds the SAM template, fuzzes the local API with
# schemathesis, and stops the emulators it started however it ends.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SAM="$ROOT/.tools/venv/bin/sam"
export SAM_CLI_TELEMETRY=0
# sam validate and the SDK need a region even offline; nothing here calls AWS.
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"

started=()
installs=()
child=""
cleanup() {
	local status=$?
	local i
	for i in "${installs[@]}"; do
		kill "$i" 2>/dev/null || true
	done
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

# The tools come from the network (pip, npm, apt): fetch them all at once, in the
# background, while lint keeps the CPU busy. Their output goes to a log that
# is shown only when an install fails.
install_log="$ROOT/.tools/install.log"
mkdir -p "$ROOT/.tools"
: >"$install_log"
background_install() {
	"$@" >>"$install_log" 2>&1 &
	installs+=($!)
}
# sam, cfn-lint and schemathesis share .tools/venv: one after the other.
background_install bash -c 'infra/tools.sh && infra/schemathesis.sh --install-only'
background_install infra/dynamodb-local.sh install
background_install infra/sqs-emulator.sh install
# The browser tests (infra/browsertest) drive Debian's chromium.
background_install infra/chromium.sh install
wait_installs() {
	local pid status=0
	for pid in "${installs[@]}"; do
		wait "$pid" || status=$?
	done
	if [ "$status" -ne 0 ]; then
		cat "$install_log" >&2
		echo "installing the test tools failed (log above)" >&2
		return "$status"
	fi
}

# The Lambda bootstraps (linux/arm64) compile in the background too, so
# that both cores stay busy while tests wait on the emulators; sam build
# then finds them up to date (see the Makefile).
background_install make --no-print-directory build

# Lint type-checks with the race detector's build flags: its compiled
# packages are the ones go test -race needs next, instead of a second,
# uninstrumented compile of everything.
step "lint" env GOFLAGS=-race make --no-print-directory lint
# Not through step: the installs are this shell's children, and only it
# may wait for them.
echo "==> tools" >&2
t=$SECONDS
wait_installs
echo "<== tools (waited $((SECONDS - t)) s)" >&2

# Not through step: start_emulator must run in this shell to record what it
# started.
start_emulator infra/dynamodb-local.sh
start_emulator infra/sqs-emulator.sh

# Schemathesis fuzzes its own local server while the Go tests run: much of
# both is waiting (on HTTP, on the emulators), so together they keep both
# cores busy. Its output is printed when it ends.
# The fuzzed server is built with the race detector: its packages are
# compiled already, and a data race it finds fails the run.
st_log="$ROOT/.tools/schemathesis.log"
env GOFLAGS=-race infra/schemathesis.sh >"$st_log" 2>&1 &
st_pid=$!
st_start=$SECONDS
installs+=("$st_pid") # stopped by cleanup if we end early

# One test binary per core (2 in CI): -race multiplies memory, which DynamoDB
# Local (~400 MB) shares with us. A hung package fails after GO_TEST_TIMEOUT
# instead of eating the CI budget (make test must stay well under 15 minutes).
step "go test" env \
	HERALD_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 \
	HERALD_TEST_SQS_ENDPOINT=http://127.0.0.1:5000 \
	HERALD_TEST_S3_ENDPOINT=http://127.0.0.1:5000 \
	HERALD_TEST_SCHEDULER_ENDPOINT=http://127.0.0.1:5000 \
	go test -race -count=1 -p "$(nproc 2>/dev/null || echo 2)" -timeout "${GO_TEST_TIMEOUT:-5m}" ./...
# The tests that read whole files at the size limits skip under -race (ten
# times slower there); they run here, without it (heavytest.Pass in their
# packages holds the same pattern).
# The phone differential tests check every case only here (a tenth under
# -race: heavytest.Stride).
step "go test (whole files, no -race)" go test -count=1 -timeout "${GO_TEST_TIMEOUT:-5m}" -run 'Hostile|Million|PeakHeap|MatchesPhonenumbers' ./shared/spreadsheet ./shared/ingest ./shared/address

step "sam validate --lint" "$SAM" validate --lint
step "sam build" "$SAM" build
# Each function's bootstrap, as SAM built it, within its size limit
# (infra/bootstrap-sizes.sh says which and why): ApiFunction is api's.
check_sizes() {
	local f fn args=()
	for f in .aws-sam/build/*Function/bootstrap; do
		fn=$(basename "$(dirname "$f")")
		fn=${fn%Function}
		args+=("${fn,}=$f")
	done
	infra/bootstrap-sizes.sh "${args[@]}"
}
step "lambda sizes" check_sizes
echo "==> schemathesis (started with go test)" >&2
st_status=0
wait "$st_pid" || st_status=$?
cat "$st_log" >&2
if [ "$st_status" -ne 0 ]; then
	echo "<== schemathesis FAILED (exit $st_status, $((SECONDS - st_start)) s since it started)" >&2
	exit "$st_status"
fi
echo "<== schemathesis ($((SECONDS - st_start)) s since it started)" >&2

#!/usr/bin/env bash
# Property-based API conformance test: Schemathesis generates requests from the
# server's own OpenAPI document (GET /v1/openapi.json) and checks that every
# answer is documented, is not a 5xx, has the documented content type and
# matches the documented schema; its stateful phase follows the document's
# links (a template into a send, a send into its cancel, an upload into its
# file). Exits non-zero on any failure and on any warning (an operation
# whose valid requests were all refused, or that no request reached).
#
#   HERALD_BASE_URL=http://127.0.0.1:8089 HERALD_API_KEY=hk_... infra/schemathesis.sh
#   infra/schemathesis.sh                 # no HERALD_BASE_URL: builds and starts
#                                         # ./infra/local on a free loopback port
#                                         # with a fresh data dir, stops it after
#   infra/schemathesis.sh --report junit  # extra arguments go to `st run`
#   infra/schemathesis.sh --install-only  # install schemathesis, run nothing
#
# Environment:
#   HERALD_BASE_URL    server to test; loopback only (127.0.0.0/8, localhost, [::1])
#   HERALD_API_KEY     an admin key of that server (generated when we start it)
#   ST_MAX_EXAMPLES    test cases per operation and phase (default 30; three
#                      times as many for the bodies with the most rules, eight
#                      times as many stateful scenarios)
#   ST_STATEFUL_STEPS  steps of a stateful scenario at most (default 10)
#   ST_SEED            Hypothesis seed (default 20261121)
#   ST_WORKERS         concurrent workers (default 1: same seed, same run)
#   ST_PHASES          default examples,coverage,fuzzing,stateful
#
# Schemathesis is installed (pinned) into .tools/venv on first use;
# infra/schemathesis_hooks.py gives it what the document cannot say.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
ST_VERSION="4.32.5"
ST="$VENV/bin/st"

log() { echo "schemathesis.sh: $*" >&2; }

install() {
	if [ -x "$ST" ] && "$ST" --version 2>/dev/null | grep -q " $ST_VERSION\$"; then
		return
	fi
	log "installing schemathesis $ST_VERSION into $VENV"
	mkdir -p "$TOOLS"
	[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
	"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
	"$ST" --version >&2
}

# loopback_only refuses any base URL that is not on this machine's loopback.
loopback_only() {
	local re='^https?://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?/?$'
	if ! [[ "$1" =~ $re ]]; then
		log "HERALD_BASE_URL must be a loopback origin such as http://127.0.0.1:8089 (got '$1')"
		exit 2
	fi
}

SERVER_PID=""
WORKDIR=""
CONFIG=""
cleanup() {
	local rc=$?
	[ -z "$CONFIG" ] || rm -f "$CONFIG"
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$WORKDIR" ]; then
		if [ "$rc" -ne 0 ] && [ -s "$WORKDIR/server.log" ]; then
			log "last lines of the server log:"
			tail -n 40 "$WORKDIR/server.log" >&2 || true
		fi
		rm -rf "$WORKDIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_local builds ./infra/local and runs the binary itself (not `go run`, so
# the PID we kill is the server's), on a free port with an empty data dir.
start_local() {
	WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/herald-st.XXXXXX")"
	mkdir -p "$WORKDIR/data"
	log "building ./infra/local"
	(cd "$ROOT" && go build -o "$WORKDIR/herald-local" ./infra/local)
	local port
	port="$(free_port)"
	HERALD_API_KEY="$(python3 -c 'import base64, secrets; print("hk_" + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=").lower())')"
	export HERALD_API_KEY
	HERALD_BASE_URL="http://127.0.0.1:$port"
	log "starting the local server on $HERALD_BASE_URL"
	HERALD_ADDR="127.0.0.1:$port" HERALD_DATA_DIR="$WORKDIR/data" HERALD_API_KEY="$HERALD_API_KEY" \
		"$WORKDIR/herald-local" >"$WORKDIR/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 150); do
		if curl -fsS --max-time 1 "$HERALD_BASE_URL/v1/health" >/dev/null 2>&1; then
			return
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "the local server exited before answering /v1/health"
			exit 1
		fi
		sleep 0.2
	done
	log "the local server did not answer /v1/health within 30 s"
	exit 1
}

if [ "${1:-}" = "--install-only" ]; then
	install
	exit 0
fi
if [ -n "${HERALD_BASE_URL:-}" ]; then
	loopback_only "${HERALD_BASE_URL%/}"
	: "${HERALD_API_KEY:?HERALD_API_KEY is required with HERALD_BASE_URL}"
fi
install
if [ -z "${HERALD_BASE_URL:-}" ]; then
	start_local
fi
HERALD_BASE_URL="${HERALD_BASE_URL%/}"
loopback_only "$HERALD_BASE_URL"

# seed_inbox sends one in-app message to the user st-inbox and prints its
# id once the workers delivered it: the inbox route changes a real message.
seed_inbox() {
	local auth="Authorization: Bearer $HERALD_API_KEY"
	curl -fsS -X PUT -H "$auth" -H 'Content-Type: application/json' -d '{"name": "Inbox"}' "$HERALD_BASE_URL/v1/users/st-inbox" >/dev/null
	curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' \
		-d '{"channel": "inapp", "audience": {"userIds": ["st-inbox"]}, "content": {"title": "Hi", "body": "Hello"}}' \
		"$HERALD_BASE_URL/v1/notifications" >/dev/null
	local id=""
	for _ in $(seq 1 100); do
		id="$(curl -fsS -H "$auth" "$HERALD_BASE_URL/v1/users/st-inbox/inbox" |
			python3 -c 'import json, sys; items = json.load(sys.stdin).get("items") or [{}]; print(items[0].get("id", ""))')"
		[ -n "$id" ] && break
		sleep 0.1
	done
	if [ -z "$id" ]; then
		log "the seeded in-app message never reached the inbox"
		exit 1
	fi
	printf '%s' "$id"
}
# An inbox message exists only once an in-app send was dispatched (by the
# workers, a moment after the send's 202), and no answer names its id: the
# hooks name this one in every test of its route.
INBOX_MESSAGE="$(seed_inbox)"
export INBOX_MESSAGE

# Our own configuration (not one found around the working directory), with
# the cross-run cache off: it would write .schemathesis/ into the working
# directory and feed earlier runs' findings into this one.
CONFIG="$(mktemp "${TMPDIR:-/tmp}/herald-st-config.XXXXXX")"
cat >"$CONFIG" <<TOML
[cache]
enabled = false

# Stateful scenarios chain what one request makes into the next (a
# template into a send, a send into its cancel, an upload into its file):
# more of them, and longer, than the unit phases' test cases.
# Only the document's own links: the links Schemathesis infers from
# names and shapes (a notification's id into an upload's file, say) take
# most of the budget and lead nowhere.
[phases.stateful]
max-steps = ${ST_STATEFUL_STEPS:-10}
inference.algorithms = []

[phases.stateful.generation]
max-examples = $((${ST_MAX_EXAMPLES:-30} * 8))

# A warning fails the run: an operation whose valid requests are all
# refused, or that no request reaches, is tested only in name.
[warnings]
fail-on = true

# The bodies with the most rules (a send, a campaign, a template, an
# upload, a user) get more test cases: some of their rules are beyond a
# schema (a variable the message needs, a map key without control
# characters, a filter that selects someone), so a few valid-looking bodies
# are refused, and too few cases could all be.
[[operations]]
include-operation-id = ["sendNotification", "dryRunNotification", "createCampaign", "updateCampaign", "createTemplate", "updateTemplate", "createUpload", "putUser", "batchUpsertUsers"]
generation.max-examples = $((${ST_MAX_EXAMPLES:-30} * 3))

# POST /v1/compose answers its documented 503 not_configured here (no
# model in the local server): still checked, that 503 accepted.
[[operations]]
include-path = "/v1/compose"
include-method = "POST"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]

# The upload URL's signature is the credential of PUT /v1/uploads/{id}/file,
# and only POST /v1/uploads makes one: a request that does not follow that
# link is refused 403 by design (the examples, coverage and fuzzing phases
# check exactly that). The stateful phase follows the link and must get
# the file taken (202), else missing_test_data fails the run.
[[operations]]
include-path = "/v1/uploads/{id}/file"
include-method = "PUT"
warnings.display = ["missing_test_data", "validation_mismatch", "method_not_allowed", "unsupported_regex", "unresolvable_reference", "rate_limited", "timeout_units"]
warnings.fail-on = true

TOML
args=(
	--url "$HERALD_BASE_URL"
	--checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
	--phases "${ST_PHASES:-examples,coverage,fuzzing,stateful}"
	--max-examples "${ST_MAX_EXAMPLES:-30}"
	--seed "${ST_SEED:-20261121}"
	--workers "${ST_WORKERS:-1}"
	--generation-database none
	--max-redirects 0
	--request-timeout 10
	--wait-for-schema 30
	--no-color
	# Answers 503 not_configured unless Web Push keys are set, and the run's
	# server has none (it must never push to the endpoints the fuzzer
	# invents); it takes no input, and Go tests cover both answers.
	--exclude-path /v1/webpush/vapid-public-key
	"$@"
)
log "st run $HERALD_BASE_URL/v1/openapi.json --header 'Authorization: Bearer ***' ${args[*]}"
# Not exec: the EXIT trap must still stop the server we started.
SCHEMATHESIS_HOOKS="$ROOT/infra/schemathesis_hooks.py" "$ST" --config-file "$CONFIG" run "$HERALD_BASE_URL/v1/openapi.json" --header "Authorization: Bearer $HERALD_API_KEY" "${args[@]}"

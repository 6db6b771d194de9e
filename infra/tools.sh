#!/usr/bin/env bash
# Installs the Python tools the build needs into .tools/venv: the SAM CLI
# (sam validate, sam build) and cfn-lint. Idempotent: when the venv already
# holds the pinned versions it returns at once.
#
#   infra/tools.sh          # install if missing or if the pins changed
#   infra/tools.sh --force  # rebuild the venv
#
# Pins: aws-sam-cli 1.170.0 requires cfn-lint >=1.52,<1.59; bump them together.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
STAMP="$VENV/.herald-requirements"
REQUIREMENTS="aws-sam-cli==1.170.0 cfn-lint==1.58.0"
PYTHON="${PYTHON:-python3}"

if [ "${1:-}" = "--force" ]; then
	rm -rf "$VENV"
fi

if [ -x "$VENV/bin/sam" ] && [ -x "$VENV/bin/cfn-lint" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$REQUIREMENTS" ]; then
	exit 0
fi

start=$SECONDS
echo "installing $REQUIREMENTS into $VENV" >&2
mkdir -p "$ROOT/.tools"
if ! [ -x "$VENV/bin/python" ]; then
	rm -rf "$VENV"
	if ! "$PYTHON" -m venv "$VENV"; then
		echo "$PYTHON -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
		exit 1
	fi
fi
# shellcheck disable=SC2086 # REQUIREMENTS is a list of words
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input $REQUIREMENTS
echo "$REQUIREMENTS" >"$STAMP"
echo "$("$VENV/bin/sam" --version), $("$VENV/bin/cfn-lint" --version) ready in $((SECONDS - start)) s" >&2

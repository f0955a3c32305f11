#!/usr/bin/env bash
# venv.sh - create .venv (ignored) and install recgen's Python packages from
# PyPI: tools/requirements.txt normally, tools/requirements-nodeps.txt with
# --no-deps (packages whose own dependency lists would trigger source builds).
# Cached: nothing is reinstalled while both files are unchanged.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
REQ=$ROOT/tools/requirements.txt
REQ_NODEPS=$ROOT/tools/requirements-nodeps.txt
stamp=$VENV/.requirements.sha256
want=$(cat "$REQ" "$REQ_NODEPS" 2>/dev/null | sha256sum | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
	exit 0
fi
echo "recgen: setting up the Python virtual environment in .venv"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
[[ -s $REQ ]] && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
[[ -s $REQ_NODEPS ]] && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ_NODEPS"
echo "$want" >"$stamp"

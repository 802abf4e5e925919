#!/usr/bin/env bash
# Creates (once) the project's Python environment and installs what scripts/ and the tests need.
#   scripts/setup-python.sh           light set: scripts/requirements.txt (interop, fixtures' tokenizers, tests)
#   scripts/setup-python.sh --train   also scripts/requirements-train.txt (PyTorch + transformers, ~4 GB;
#                                     for making fixtures and training; never needed by CI)
# The environment lives in $PRISM_VENV (default: .venv in the repository root, git-ignored).
# Prints the path of its python on the last line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${PRISM_VENV:-$root/.venv}
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv" >&2
fi
stamp() { sha256sum "$1" | cut -c1-16; }
install() {
  local req=$1 mark="$venv/.installed-$(basename "$1")-$(stamp "$1")"
  [ -f "$mark" ] && return 0
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
  touch "$mark"
}
install "$root/scripts/requirements.txt"
if [ "${1:-}" = "--train" ]; then install "$root/scripts/requirements-train.txt"; fi
echo "$venv/bin/python"

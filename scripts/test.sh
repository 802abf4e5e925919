#!/usr/bin/env bash
# The project's test command (README, CI): installs what is missing, builds, runs every test.
#   Swift: swift test (unit tests, real-socket fleet tests, SIGKILL fault tests, interop clients)
#   Python: pytest over scripts/tests when present
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
PRISM_PYTHON=$(scripts/setup-python.sh | tail -n 1)
export PRISM_PYTHON
swift build --build-tests
swift test --skip-build
# The Python tests that run the CLI (deployment manifests) use the debug build.
PRISM_BIN="$(swift build --show-bin-path)/prism"
export PRISM_BIN
# Python: the scripts' tests, and the pip-installable client against real fleet processes.
"$PRISM_PYTHON" -m pytest -q scripts/tests clients/python/tests

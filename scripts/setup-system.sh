#!/usr/bin/env bash
# Installs the Debian packages Prism builds against (once; a no-op when they are present).
set -euo pipefail
packages=(libzmq3-dev libopenblas-dev libdnnl-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

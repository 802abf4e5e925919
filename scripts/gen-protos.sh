#!/usr/bin/env bash
# Regenerates the committed protobuf code from Protos/.
#   Swift  -> Sources/PrismWire/Generated/*.pb.swift   (swift-protobuf 1.39.0's protoc-gen-swift)
#   Python -> scripts/interop/prism_pb/ (protoc --python_out), used by the Python client
#   C      -> scripts/interop/c/generated/ (protoc-c --c_out, protobuf-c), used by the C client
#   Python -> clients/python/src/prism_client/_proto/ (the pip-installable client; imports made relative)
# protoc-gen-swift is built once into $PROTOC_GEN_SWIFT_DIR (default /tmp/swift-protobuf-1.39.0);
# building it takes 1.5-10 minutes, so CI never runs this script: the output is committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${PROTOC_GEN_SWIFT_DIR:-/tmp/swift-protobuf-1.39.0}
plugin="$dir/.build/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
  rm -rf "$dir"
  git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$dir"
  (cd "$dir" && swift build -c release --product protoc-gen-swift)
fi
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
command -v protoc-c >/dev/null || { echo "protoc-c missing: apt-get install protobuf-c-compiler libprotobuf-c-dev" >&2; exit 1; }
mkdir -p "$root/Sources/PrismWire/Generated" "$root/scripts/interop/prism_pb" "$root/scripts/interop/c/generated"
protoc --plugin=protoc-gen-swift="$plugin" -I "$root/Protos" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$root/Sources/PrismWire/Generated" "$root"/Protos/prism/v1/*.proto
protoc -I "$root/Protos" --python_out="$root/scripts/interop/prism_pb" "$root"/Protos/prism/v1/*.proto
protoc-c -I "$root/Protos" --c_out="$root/scripts/interop/c/generated" "$root"/Protos/prism/v1/*.proto
# The pip-installable client ships its modules flat inside its package (prism_client._proto).
staging=$(mktemp -d)
protoc -I "$root/Protos" --python_out="$staging" "$root"/Protos/prism/v1/*.proto
mkdir -p "$root/clients/python/src/prism_client/_proto"
for file in "$staging"/prism/v1/*_pb2.py; do
  sed 's/^from prism\.v1 import /from . import /' "$file" >"$root/clients/python/src/prism_client/_proto/$(basename "$file")"
done
rm -rf "$staging"
echo "generated into Sources/PrismWire/Generated, scripts/interop/prism_pb, scripts/interop/c/generated and clients/python"

#!/usr/bin/env bash
# usage: benches/peer_task.sh IN OUT — the peer "tag" job on the release binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../target/release/glyphsieve
[[ -x $bin ]] || (cd "$here/.." && cargo build --release -q)
exec "$bin" eval --schema "$here/peer_schema.yaml" "$here/peer_task.rule" "$1" -o "$2"

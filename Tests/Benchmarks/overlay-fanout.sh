#!/usr/bin/env bash
# Caption-event-to-receipt latency at 10, 100 and 1,000 clients: the overlay feed (CaptionSidecar.Overlay) vs a
# Node.js `ws` broadcast server, same load generator, one run (docs/benchmarks.md). Installs ws (npm ci) if missing
# and writes the tables to artifacts/overlay/benchmark.md.
# Usage: Tests/Benchmarks/overlay-fanout.sh [events=100] [interval-ms=50] [clients=10,100,1000] [reader-threads=1]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
if [ ! -d Tests/Benchmarks/ws-node/node_modules/ws ]; then
  (cd Tests/Benchmarks/ws-node && npm ci --no-audit --no-fund >/dev/null)
fi
dotnet build Tests/Benchmarks/OverlayFanOut -c Release -v q -nologo >/dev/null
mkdir -p artifacts/overlay
dotnet run -c Release --no-build --project Tests/Benchmarks/OverlayFanOut -- \
  run Tests/Benchmarks/ws-node "${1:-100}" "${2:-50}" "${3:-10,100,1000}" "${4:-1}" | tee artifacts/overlay/benchmark.md

#!/usr/bin/env bash
# SetInputSettings round trip, ObsBridge vs obs-websocket-js, on the same headless OBS in one run (docs/benchmarks.md).
# Starts OBS with scripts/obs-headless.sh if needed, installs obs-websocket-js (npm ci) if missing, and writes the
# table (with the load average before and after) to artifacts/obs/benchmark.md.
#   Usage: Tests/Benchmarks/obs-roundtrip.sh [count-per-round=200] [rounds=15]
# Default .NET socket settings: ObsClient needs no process-wide switch. To compare with inline socket completions,
# run it with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 in the environment (the table's heading says which).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
scripts/obs-headless.sh start >/dev/null
if [ ! -d Tests/Benchmarks/obs-js/node_modules/obs-websocket-js ]; then
  (cd Tests/Benchmarks/obs-js && npm ci --no-audit --no-fund >/dev/null)
fi
dotnet build Tests/Benchmarks/ObsRoundTrip -c Release -v q -nologo >/dev/null
mkdir -p artifacts/obs
{
  echo "load before: $(uptime)"; echo
  dotnet run -c Release --no-build --project Tests/Benchmarks/ObsRoundTrip -- \
    "ws://127.0.0.1:$(cat .test-peers/obs/port)" "$(cat .test-peers/obs/password)" "${1:-200}" "${2:-15}"
  echo; echo "load after: $(uptime)"
} | tee artifacts/obs/benchmark.md

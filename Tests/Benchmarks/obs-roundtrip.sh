#!/usr/bin/env bash
# SetInputSettings round trip, ObsBridge vs obs-websocket-js, on the same headless OBS in one run (docs/benchmarks.md).
# Starts OBS with scripts/obs-headless.sh if needed, installs obs-websocket-js (npm ci) if missing, and writes the
# table to artifacts/obs/benchmark.md.   Usage: Tests/Benchmarks/obs-roundtrip.sh [count-per-round=200] [rounds=15]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
scripts/obs-headless.sh start >/dev/null
if [ ! -d Tests/Benchmarks/obs-js/node_modules/obs-websocket-js ]; then
  (cd Tests/Benchmarks/obs-js && npm ci --no-audit --no-fund >/dev/null)
fi
dotnet build Tests/Benchmarks/ObsRoundTrip -c Release -v q -nologo >/dev/null
mkdir -p artifacts/obs
run() {
  dotnet run -c Release --no-build --project Tests/Benchmarks/ObsRoundTrip -- \
    "ws://127.0.0.1:$(cat .test-peers/obs/port)" "$(cat .test-peers/obs/password)" "${1:-200}" "${2:-15}"
}
{
  echo "### Default .NET socket settings"; echo
  run "$@"
  echo; echo "### DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (socket completions without a thread-pool hop)"; echo
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 run "$@"
} | tee artifacts/obs/benchmark.md

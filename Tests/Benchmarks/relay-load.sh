#!/usr/bin/env bash
# Viewer relay load (docs/benchmarks.md "Viewer relay"): a private nats-server, then one after another in this run:
#   .NET relay (CaptionSidecar relay) with N viewers; two .NET relays with N/2 each;
#   Node.js relay (relay-node/relay.mjs: ws + nats) with N viewers; two Node relays with N/2 each.
# The publisher (acting as the sidecar) and the viewers are Tests/Benchmarks/RelayLoad, one process on this machine.
# Writes artifacts/relay/benchmark.md (and results.jsonl, the relays' logs).
# Usage: Tests/Benchmarks/relay-load.sh [viewers=10000] [seconds=60] [only=dotnet,node]
#        (CAPTION_RELAY_EXE=path: run that CaptionSidecar build as the .NET relay instead of building Sidecar here)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
viewers="${1:-10000}"
seconds="${2:-60}"
only="${3:-dotnet,node}"
out="$repo/artifacts/relay"
state="$out/nats"
nats_port=14522
nats_http=18522
stream=bench

# 10,000 viewers are 10,000 sockets in the generator and 10,000 in the relay (each process has its own limit).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((viewers + 1000)) ]; then
  echo "relay-load: the open-file limit is $(ulimit -n), under the $((viewers + 1000)) that $viewers viewers need" >&2
  exit 2
fi

mkdir -p "$out"
rm -rf "$state" "$out/results.jsonl"
scripts/nats-headless.sh config --dir "$state" --port "$nats_port" --http-port "$nats_http" --stream "$stream"
# shellcheck disable=SC1091
. "$state/users.env"
sidecar_url="nats://sidecar:$NATS_SIDECAR_PASSWORD@127.0.0.1:$nats_port"
relay_url="nats://relay:$NATS_RELAY_PASSWORD@127.0.0.1:$nats_port"
# The Node relay's core subscription to $KV.captions.bench.* needs a user allowed to subscribe there: admin.
admin_url="nats://admin:$NATS_ADMIN_PASSWORD@127.0.0.1:$nats_port"

# Other work may share this machine (builds, tests): the benchmark's own processes (nats-server, the relays, the
# generator) run at a higher priority when root can give it, so they get the cores first; the generator still shares
# them with the relay, as the measurement intends.
prio=()
if [ "$(id -u)" -eq 0 ]; then prio=(nice -n -10); fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_healthy() { # PORT NAME
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "relay-load: $2 on port $1 did not become healthy" >&2
  return 1
}

"${prio[@]}" nats-server -c "$state/nats.conf" >"$out/nats.log" 2>&1 &
nats_pid=$!
pids+=("$nats_pid")
wait_healthy "$nats_http" nats-server

if [[ "$only" == *node* ]] && [ ! -d Tests/Benchmarks/relay-node/node_modules/ws ]; then
  (cd Tests/Benchmarks/relay-node && npm ci --no-audit --no-fund >/dev/null)
fi
dotnet build Tests/Benchmarks/RelayLoad -c Release -v q -nologo >/dev/null
# CAPTION_RELAY_EXE: a CaptionSidecar executable built elsewhere (another commit), instead of building this one.
sidecar_exe="${CAPTION_RELAY_EXE:-$repo/Sidecar/bin/Release/net10.0/CaptionSidecar}"
if [[ "$only" == *dotnet* ]] && [ -z "${CAPTION_RELAY_EXE:-}" ]; then
  dotnet build Sidecar -c Release -v q -nologo >/dev/null
fi
generator=("${prio[@]}" dotnet "$repo/Tests/Benchmarks/RelayLoad/bin/Release/net10.0/RelayLoad.dll")

start_relay() { # KIND PORT -> prints the pid
  local kind="$1" port="$2"
  if [ "$kind" = dotnet ]; then
    # The relay's own limits stay at their defaults (20,000 viewers, 50 per address): the generator spreads its
    # viewers over 127.1.x.y source addresses, 50 each.
    CAPTIONSIDECAR_Logging__LogLevel__Default=Warning \
      "${prio[@]}" "$sidecar_exe" relay --nats "$relay_url" --http-port "$port" >"$out/relay-dotnet-$port.log" 2>&1 &
  else
    "${prio[@]}" node Tests/Benchmarks/relay-node/relay.mjs --nats "$admin_url" --http-port "$port" --stream "$stream" \
      >"$out/relay-node-$port.log" 2>&1 &
  fi
  echo $!
}

run() { # KIND LABEL RELAYS PORT...
  local kind="$1" label="$2" count="$3"; shift 3
  local relay_args=() started=() port pid
  for port in "$@"; do
    pid="$(start_relay "$kind" "$port")"
    pids+=("$pid")
    started+=("$pid")
    relay_args+=(--relay "$port:$pid")
  done
  for port in "$@"; do wait_healthy "$port" "$label"; done
  "${generator[@]}" run --nats "$sidecar_url" --stream "$stream" "${relay_args[@]}" --viewers "$viewers" \
    --seconds "$seconds" --warm-up 10 --label "$label" --nats-pid "$nats_pid" --results "$out/results.jsonl"
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  sleep 2
}

node_version="$(node --version)"
if [[ "$only" == *dotnet* ]]; then
  run dotnet ".NET relay (CaptionSidecar relay, .NET $(dotnet --version))" 1 4601
  run dotnet ".NET relay (CaptionSidecar relay, .NET $(dotnet --version))" 2 4611 4612
fi
if [[ "$only" == *node* ]]; then
  run node "Node.js relay (ws 8.23.0 + nats 2.29.3, node $node_version)" 1 4621
  run node "Node.js relay (ws 8.23.0 + nats 2.29.3, node $node_version)" 2 4631 4632
fi

{
  echo "Viewer relay load, $(date -u +%Y-%m-%dT%H:%MZ): $viewers viewers (half en, half es) per configuration, 10 s warm-up then $seconds s measured;"
  echo "publisher (as the sidecar): en and es, a tentative every 100 ms and a final every 2 s; $(nproc) cores shared by nats-server, the relay(s) and the generator."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); benchmark processes at ${prio[*]:-the default priority}."
  echo
  "${generator[@]}" table "$out/results.jsonl"
} | tee "$out/benchmark.md"

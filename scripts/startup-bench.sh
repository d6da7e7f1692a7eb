#!/usr/bin/env bash
# Start-up and first-caption latency of the release builds, JIT vs ReadyToRun, in one run (docs/benchmarks.md,
# "Release builds: start-up and first caption"). Publishes linux-x64 both ways with scripts/publish.sh into
# artifacts/startup-bench/{jit,r2r}/ (and win-x64 with --wine), checks that each single-file build prints its version
# (natively) and serves the overlay, then starts each build RUNS times, alternating which goes first, after one
# unrecorded start each (page cache, and the Windows build's self-extraction). Per start (scripts/startup-probe.mjs):
# process start to GET /overlay answering 200, and for the first UPDATES caption updates of the test pattern the
# time from the update's own timestamp to its receipt on /ws/captions. Writes artifacts/startup-bench/runs.jsonl and
# the table to artifacts/startup-bench/result.md.
#
#   scripts/startup-bench.sh [--wine] [--no-publish] [--also NAME=DIR]... [RUNS=7] [UPDATES=12]
#   --wine            also the win-x64 builds under scripts/wine-headless.sh's Wine
#   --no-publish      reuse the builds of an earlier run
#   --also NAME=DIR   one more build in the same run, e.g. an older commit's: DIR holds linux-x64/CaptionSidecar
#                     (as scripts/publish.sh --out DIR linux-x64 makes it); linux-x64 only
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf '[startup-bench] %s\n' "$*" >&2; }

wine=false
publish=true
positional=()
declare -A extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --wine) wine=true ;;
    --no-publish) publish=false ;;
    --also) shift; extra["${1%%=*}"]="$(cd "${1#*=}" && pwd)" ;;
    -*) log "unknown option $1 (see the header of $0)"; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
runs="${positional[0]:-7}"
updates="${positional[1]:-12}"
out="artifacts/startup-bench"
mkdir -p "$out"
command -v node >/dev/null || { log "node (20 or later) is needed for the WebSocket probe"; exit 1; }

rids=(linux-x64)
$wine && rids+=(win-x64)
if $publish; then
  for rid in "${rids[@]}"; do
    bash scripts/publish.sh --out "$out/r2r" "$rid"
    bash scripts/publish.sh --no-r2r --out "$out/jit" "$rid"
  done
fi

wine_env=()
if $wine; then
  bash scripts/wine-headless.sh start >&2
  while IFS= read -r line; do wine_env+=("$line"); done < <(bash scripts/wine-headless.sh env)
fi

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
for name in "${!extra[@]}"; do ln -sfn "${extra[$name]}" "$out/$name"; done
# The single-file linux-x64 builds, natively: the version, before anything is measured.
for build in jit r2r "${!extra[@]}"; do
  printed="$("$out/$build/linux-x64/CaptionSidecar" --version)"
  [[ "$printed" == "$version"* ]] || { log "$build linux-x64 --version printed '$printed', expected $version..."; exit 1; }
  log "$build linux-x64 --version: $printed"
done

data="$(mktemp -d /tmp/caption-startup-bench.XXXXXX)"
trap 'rm -rf "$data"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One start of one build; appends {"build","rid","run","overlayMs","latencies"} to runs.jsonl (run 0 = unrecorded).
probe() {
  local build="$1" rid="$2" run="$3" port line
  port="$(free_port)"
  rm -rf "${data:?}/$build-$rid" && mkdir -p "$data/$build-$rid"
  if [ "$rid" = win-x64 ]; then
    line="$(env "${wine_env[@]}" node --experimental-websocket scripts/startup-probe.mjs "$port" "$updates" \
      "Z:${data//\//\\}\\$build-$rid" wine "$out/$build/win-x64/CaptionSidecar.exe")"
  else
    line="$(node --experimental-websocket scripts/startup-probe.mjs "$port" "$updates" "$data/$build-$rid" \
      "$out/$build/linux-x64/CaptionSidecar")"
  fi
  printf '{"build":"%s","rid":"%s","run":%d,%s\n' "$build" "$rid" "$run" "${line#\{}" >>"$out/runs.jsonl"
}

: >"$out/runs.jsonl"
log "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rid in "${rids[@]}"; do
  builds=(jit r2r)
  [ "$rid" = linux-x64 ] && builds+=("${!extra[@]}")
  for build in "${builds[@]}"; do probe "$build" "$rid" 0; done
  for run in $(seq 1 "$runs"); do
    # Each run in another order (rotated), so no build always goes first.
    order=("${builds[@]:$((run % ${#builds[@]}))}" "${builds[@]:0:$((run % ${#builds[@]}))}")
    for build in "${order[@]}"; do probe "$build" "$rid" "$run"; done
    log "$rid run $run of $runs done"
  done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/runs.jsonl" "$runs" "$updates" <<'PY' | tee "$out/result.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs, updates = sys.argv[2], sys.argv[3]
def med(xs): return statistics.median(xs)
print(f"{runs} starts per build (after one unrecorded start each), {updates} caption updates per start; medians, ms.\n")
print("| build | process start to overlay served | first caption | later captions (2nd on, median of medians) | first / later |")
print("| --- | --- | --- | --- | --- |")
table = {}
for rid in dict.fromkeys(r["rid"] for r in rows):
    for build in dict.fromkeys(r["build"] for r in rows if r["rid"] == rid):
        rs = [r for r in rows if r["rid"] == rid and r["build"] == build and r["run"] > 0]
        if not rs: continue
        start = med([r["overlayMs"] for r in rs])
        first = med([r["latencies"][0] for r in rs])
        later = med([med(r["latencies"][1:]) for r in rs])
        table[(rid, build)] = (start, first, later)
        spread = f'{min(r["overlayMs"] for r in rs):.0f}-{max(r["overlayMs"] for r in rs):.0f}'
        fspread = f'{min(r["latencies"][0] for r in rs):.1f}-{max(r["latencies"][0] for r in rs):.1f}'
        name = {"jit": "JIT", "r2r": "ReadyToRun"}.get(build, build)
        print(f"| {rid} {name} | {start:.0f} ({spread}) | {first:.1f} ({fspread}) | {later:.2f} | {first/later:.0f}x |")
print()
for rid in dict.fromkeys(r for r, _ in table):
    if (rid, "jit") in table and (rid, "r2r") in table:
        j, r = table[(rid, "jit")], table[(rid, "r2r")]
        print(f"{rid}, JIT / ReadyToRun: start to overlay {j[0]/r[0]:.2f}, first caption {j[1]/r[1]:.2f}, later captions {j[2]/r[2]:.2f}")
    for build in ("jit", "r2r"):
        if (rid, build + "-before") in table and (rid, build) in table:
            b, a = table[(rid, build + "-before")], table[(rid, build)]
            print(f"{rid} {build}, before / now: start to overlay {b[0]/a[0]:.2f}, first caption {b[1]/a[1]:.2f}, later captions {b[2]/a[2]:.2f}")
PY

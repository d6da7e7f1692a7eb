#!/usr/bin/env bash
# A long stream through the whole sidecar, faster than real time: HOURS of espeak-ng speech (one sentence,
# then a pause, over and over) go through the sidecar process (raw PCM on stdin, the Realtime tracks of the source
# language and of every LANGS target) to the standalone fake Realtime server on loopback, whose sessions expire
# after LIFETIME seconds of wall time, so every track replaces its session many times. The fake answers each turn
# with the next numbered line of each language. Afterwards every language's .jsonl transcript must hold each
# sentence exactly once, in order (each line is matched to its sentence by its place on the timeline), and the
# sidecar's resident memory, sampled as it runs, shows whether anything grows with the length of the stream.
#
#   scripts/soak.sh [HOURS] [LANGS] [LIFETIME] [SPEED]    (defaults 4, es,fr, 120, unpaced; needs espeak-ng, sox, python3)
#
# SPEED paces the input at that many times real time (for example 10); without it the sidecar reads as fast as its
# tracks take the audio. Environment: SOAK_ROLLOVER_MINUTES sets Realtime:RolloverAfterMinutes (0 = rollover off).
#
# Exit status 0 when every transcript is complete and in order, 1 otherwise. Prints a summary; the transcripts,
# the memory samples and both logs are kept in the work folder it names.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
hours="${1:-4}"
langs="${2:-es,fr}"
lifetime="${3:-120}"
speed="${4:-}"
work="$(mktemp -d /tmp/caption-soak.XXXXXX)"
trap 'kill "${fake_pid:-}" "${sampler_pid:-}" 2>/dev/null || true' EXIT

dotnet build Sidecar -c Release -v q -nologo >/dev/null
dotnet build Tests/FakeRealtime -c Release -v q -nologo >/dev/null

# One unit: a sentence and a 1.5 s pause (the fake's VAD ends a turn after 500 ms of silence).
espeak-ng -v en -s 160 -w "$work/s.wav" "This is one sentence of a long stream, spoken for the soak test."
sox "$work/s.wav" -r 24000 -c 1 -b 16 "$work/unit.wav" pad 0 1.5
unit_s="$(soxi -D "$work/unit.wav")"
turns="$(python3 -c "import math; print(math.ceil($hours*3600/$unit_s))")"

# The fake's script: a numbered line per turn in every language (source first), tab-separated with a header.
python3 - "$work/script.tsv" "$turns" "$langs" <<'PY'
import sys
path, turns, langs = sys.argv[1], int(sys.argv[2]), [l for l in sys.argv[3].split(",") if l]
with open(path, "w", encoding="utf-8") as f:
    f.write("\t".join(["en"] + langs) + "\n")
    for n in range(1, turns + 1):
        f.write("\t".join([f"Sentence {n} of the stream."] + [f"[{l}] {n}" for l in langs]) + "\n")
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dotnet Tests/FakeRealtime/bin/Release/net10.0/FakeRealtime.dll --port "$port" --script "$work/script.tsv" \
  --lifetime-seconds "$lifetime" > "$work/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 100); do grep -q listening "$work/fake.log" && break; sleep 0.1; done

# sox repeats the unit into one stream on stdin; the sidecar reads it as fast as its tracks take it.
start=$(date +%s.%N)
pace() { # copies stdin to stdout at $speed times real time (24 kHz mono s16le), or as fast as it is read
  if [ -z "$speed" ]; then cat; return; fi
  python3 -u -c '
import sys, time
rate = 48000 * float(sys.argv[1]); block = 9600; start = time.monotonic(); sent = 0
src, dst = sys.stdin.buffer, sys.stdout.buffer
while (data := src.read(block)):
    dst.write(data); dst.flush(); sent += len(data)
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0: time.sleep(ahead)
' "$speed"
}
[ -n "${SOAK_ROLLOVER_MINUTES:-}" ] && export CAPTIONSIDECAR_Realtime__RolloverAfterMinutes="$SOAK_ROLLOVER_MINUTES"
sox "$work/unit.wav" -t raw - repeat "$((turns - 1))" | pace \
  | dotnet Sidecar/bin/Release/net10.0/CaptionSidecar.dll --input stdin --input-rate 24000 --input-channels 1 \
      --exit-at-end --engine openai --api-key test-key --realtime-endpoint "http://127.0.0.1:$port/v1" \
      --languages "$langs" --no-obs --http-port 0 --transcript-dir "$work/out" --data-dir "$work/data" \
      --log-level Information > "$work/sidecar.out" 2> "$work/sidecar.err" &
sidecar_pid=$!
# $! is the sidecar (the last command of the pipeline); sample its memory and how far the source transcript got.
(
  while kill -0 "$sidecar_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$sidecar_pid/status" 2>/dev/null || true)
    done_lines=$(cat "$work"/out/*-en.jsonl 2>/dev/null | wc -l || true)
    [ -n "$rss" ] && printf '%s %s %s\n' "$(date +%s.%N)" "$rss" "$done_lines" >> "$work/memory.txt"
    sleep 2
  done
) &
sampler_pid=$!
status=0
wait "$sidecar_pid" || status=$?
end=$(date +%s.%N)
wait "$sampler_pid" 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  echo "[soak] the sidecar exited with $status; see $work/sidecar.err" >&2
fi

python3 - "$work" "$turns" "$langs" "$hours" "$start" "$end" "$lifetime" "$status" "$unit_s" <<'PY'
import glob, json, re, sys
work, turns, langs, hours = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
start, end, lifetime, status, unit_ms = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7], int(sys.argv[8]), float(sys.argv[9]) * 1000
ok = status == 0
wall = end - start
print(f"audio: {hours:g} h in {turns} sentences; wall time {wall/60:.1f} min ({hours*3600/wall:.0f}x real time); fake sessions expire after {lifetime} s; "
      f"rollover after {__import__('os').environ.get('CAPTIONSIDECAR_Realtime__RolloverAfterMinutes', 'the default')} min")
for lang in ["en"] + [l for l in langs.split(",") if l]:
    files = sorted(glob.glob(f"{work}/out/*-{lang}.jsonl"))
    lines = [json.loads(l) for f in files for l in open(f, encoding="utf-8") if l.strip()]
    # Which sentence a line captions follows from its place on the timeline, not from its text: the fake hands out
    # its script lines in order, so an answer lost in a closing socket skips a script number without losing speech.
    sentences = [int((l["start_ms"] + l["end_ms"]) / 2 // unit_ms) + 1 for l in lines]
    missing = sorted(set(range(1, turns + 1)) - set(sentences))
    twice = len(sentences) - len(set(sentences))
    in_order = sentences == sorted(sentences)
    numbers = [int(m.group(1)) for l in lines if (m := re.search(r"(\d+)", l["text"]))]
    skipped = (max(numbers) - len(numbers)) if numbers else 0
    good = not missing and twice == 0 and in_order and len(sentences) == turns
    ok &= good
    print(f"{lang}: {len(sentences)} lines for {turns} sentences, {len(missing)} sentences missing"
          f"{(' (first ' + str(missing[:5]) + ')') if missing else ''}, {twice} captioned twice, "
          f"{'in order' if in_order else 'OUT OF ORDER'}; fake script lines skipped: {skipped}")
samples = [tuple(map(float, l.split())) for l in open(f"{work}/memory.txt")] if glob.glob(f"{work}/memory.txt") else []
if samples:
    def at(fraction):
        goal = fraction * turns
        return next((s for s in samples if s[2] >= goal), samples[-1])
    peak = max(s[1] for s in samples)
    points = ", ".join(f"{int(f*100)}%: {at(f)[1]/1024:.0f} MiB" for f in (0.1, 0.25, 0.5, 0.75, 1.0))
    print(f"sidecar resident memory by progress: {points}; peak {peak/1024:.0f} MiB ({len(samples)} samples)")
err = open(f"{work}/sidecar.err", encoding="utf-8", errors="replace").read()
print(f"sessions rolled over: {err.count('rolled over from session')} ({err.count('in the middle of a turn')} mid-turn), "
      f"lost and replaced: {err.count('session ended')}, watchdog restarts: {err.count('returns no text')}, replay waits given up: {err.count('sending on')}")
print(f"work folder: {work}")
print("soak: PASS" if ok else "soak: FAIL")
sys.exit(0 if ok else 1)
PY

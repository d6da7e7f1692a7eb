#!/usr/bin/env bash
# Cost and latency of text vs audio translation (issue 11), measured on the sidecar process against the fake Realtime
# server, whose usage counts tokens like the service (10 audio tokens a second of each committed turn, billed again in
# every response whose context holds it; text about 4 characters a token; prompt caching of shared prefixes >= 1,024).
#
#   scripts/cost-bench.sh [--modes audio,text] [--no-latency] [--speed N] [--only RUN] [--work DIR]
#   (needs espeak-ng, sox, python3; --work DIR keeps and reuses the generated speech)
#
# 1. Speech: about 10 minutes of English (espeak-ng, 24 kHz mono), the 40 sentences of
#    Tests/Benchmarks/CostBench/sentences.tsv over and over, each followed by a pause, so that speech is 60% of the time
#    (the README's assumption), then 20 s of silence (so the last translation is metered before the input ends); the
#    fake's script gives each sentence its es/fr/de line. A 3-minute cut is the latency input.
# 2. Cost runs, whole file, fed at 8x real time through a FIFO (--no-pacing; --speed N to change; as fast as possible
#    would commit every turn at once and leave audio translations without their context): each mode (--translate-from text|audio), --languages es and es,fr,de,
#    targets gpt-realtime and gpt-realtime-mini (--text-translate-model / --translate-model); source gpt-4o-transcribe.
#    Tokens and cost come from the sidecar's cost meter (/api/status costs, polled until it exits); per hour = the
#    run's cost scaled from the speech's length (without the silent tail) to an hour.
# 3. Latency runs, 3 minutes in real time, --languages es, one per mode: speech end to source final, speech end to
#    translation final, and (text mode) source final to translation final (same item id), p50 and p99, from the
#    JSONL transcripts' wall times.
#
# A sidecar that does not translate from text yet fails the text runs with a message saying so (its translation
# sessions are sent audio); --modes audio runs only audio mode. Prints a Markdown report (also WORK/report.md);
# exit status 0 when every run gave figures. Takes about 15-25 minutes on a 2-core machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
work=""
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --modes) bench_args+=(--modes "$2"); shift 2 ;;
    --no-latency) bench_args+=(--no-latency); shift ;;
    --only) bench_args+=(--only "$2"); shift 2 ;; # runs whose name holds this, e.g. cost-audio-es-gpt-realtime
    --speed) bench_args+=(--speed "$2"); shift 2 ;;
    *) echo "usage: scripts/cost-bench.sh [--modes audio,text] [--no-latency] [--speed N] [--only RUN] [--work DIR]" >&2; exit 2 ;;
  esac
done
for tool in espeak-ng sox soxi python3 dotnet; do
  command -v "$tool" >/dev/null || { echo "[cost-bench] $tool is missing (apt-get install espeak-ng sox python3)" >&2; exit 2; }
done
work="${work:-$(mktemp -d /tmp/cost-bench.XXXXXX)}"
mkdir -p "$work/sentences"
sentences="$repo/Tests/Benchmarks/CostBench/sentences.tsv"

# Each sentence once: espeak-ng, resampled to 24 kHz mono s16, silence trimmed at both ends (timing = the voice itself).
n=0
while IFS=$'\t' read -r en _rest; do
  n=$((n + 1))
  [ "$n" -eq 1 ] && continue # header
  out="$work/sentences/$(printf '%02d' $((n - 1))).wav"
  if [ ! -s "$out" ]; then
    espeak-ng -v en-us -s 160 -w "$work/sentences/raw.wav" "$en"
    sox "$work/sentences/raw.wav" -r 24000 -c 1 -b 16 "$out" silence 1 0.02 0.3% reverse silence 1 0.02 0.3% reverse
  fi
done < "$sentences"
rm -f "$work/sentences/raw.wav"

# The turns: sentences in order, round and round, each followed by a pause; timing files and the fake's script.
python3 - "$work" "$sentences" <<'PY'
import csv, subprocess, sys, wave
work, sentences = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(sentences, encoding="utf-8"), delimiter="\t"))
header, rows = rows[0], rows[1:]
def seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()
lengths = [seconds(f"{work}/sentences/{i + 1:02d}.wav") for i in range(len(rows))]
pause = round(sum(lengths) / len(lengths) * (0.4 / 0.6), 2)   # speech 60% of the time
lead = 1.0
subprocess.run(["sox", "-n", "-r", "24000", "-c", "1", "-b", "16", f"{work}/pause.wav", "trim", "0", str(pause)], check=True)
subprocess.run(["sox", "-n", "-r", "24000", "-c", "1", "-b", "16", f"{work}/lead.wav", "trim", "0", str(lead)], check=True)
subprocess.run(["sox", "-n", "-r", "24000", "-c", "1", "-b", "16", f"{work}/tail.wav", "trim", "0", "20"], check=True)
def build(name, limit):
    parts, timing, script, t, k = [f"{work}/lead.wav"], [], ["\t".join(header)], lead, 0
    while t < limit:
        i = k % len(rows)
        k += 1
        parts += [f"{work}/sentences/{i + 1:02d}.wav", f"{work}/pause.wav"]
        timing.append(f"{k}\t{t:.3f}\t{t + lengths[i]:.3f}")
        script.append("\t".join(rows[i]))
        t += lengths[i] + pause
    # A silent tail: the last translation and its usage are done (and the cost meter read) before the input ends.
    subprocess.run(["sox", *parts, f"{work}/tail.wav", f"{work}/{name}.wav"], check=True)
    open(f"{work}/timing{name[6:]}.tsv", "w").write("\n".join(timing) + f"\nend\t{t:.3f}\n")
    return script
script = build("speech", 600)
build("speech-short", 180)
open(f"{work}/script.tsv", "w", encoding="utf-8").write("\n".join(script) + "\n")
print(f"[cost-bench] speech: {len(script) - 1} sentences, pause {pause} s; {work}/speech.wav", file=sys.stderr)
PY

dotnet build Sidecar -c Release -v q -nologo >/dev/null
dotnet build Tests/Benchmarks -c Release -v q -nologo >/dev/null
status=0
dotnet Tests/Benchmarks/bin/Release/net10.0/Benchmarks.dll --cost-bench "$work" "$repo/Sidecar/bin/Release/net10.0/CaptionSidecar.dll" \
  "${bench_args[@]}" || status=$?
echo "[cost-bench] work folder: $work (each run's command, logs and transcripts under runs/)" >&2
exit "$status"

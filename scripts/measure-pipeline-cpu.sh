#!/usr/bin/env bash
# Measures the CPU the whole sidecar pipeline (WAV reader, resampler, chunker, fan-out, Realtime track, captions,
# console and transcript outputs) spends per minute of audio, against the fake Realtime server on loopback.
# It runs the sidecar twice, unpaced: on MINUTES of speech and on 5 s of it, and subtracts the second (process start,
# JIT, connect) from the first. The fake server runs in its own process and is not counted.
#
#   scripts/measure-pipeline-cpu.sh [MINUTES]     (default 10; needs espeak-ng, sox, python3)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
minutes="${1:-10}"
work="$(mktemp -d)"
trap 'kill "${fake_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build Sidecar -c Release -v q -nologo >/dev/null
dotnet build Tests/FakeRealtime -c Release -v q -nologo >/dev/null

# Speech: a sentence with a pause, repeated to the length asked for.
espeak-ng -v en -s 160 -w "$work/s.wav" "This is one line of speech for the caption pipeline to carry."
sox -n -r 22050 -c 1 -b 16 "$work/pause.wav" trim 0 1.5
sox "$work/s.wav" "$work/pause.wav" "$work/unit.wav"
unit="$(soxi -D "$work/unit.wav")"
repeats="$(python3 -c "import math; print(math.ceil($minutes*60/$unit))")"
sox $(for _ in $(seq "$repeats"); do printf '%s ' "$work/unit.wav"; done) -r 48000 -c 2 "$work/long.wav"
sox "$work/unit.wav" -r 48000 -c 2 "$work/short.wav"
audio_s="$(soxi -D "$work/long.wav")"
short_s="$(soxi -D "$work/short.wav")"

awk 'BEGIN { for (i = 0; i < 100000; i++) print "A caption line from the fake server." }' > "$work/script.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dotnet Tests/FakeRealtime/bin/Release/net10.0/FakeRealtime.dll --port "$port" --script "$work/script.txt" > "$work/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 100); do grep -q listening "$work/fake.log" && break; sleep 0.1; done

cpu() { # prints user+system CPU seconds of one sidecar run on $1
  python3 - "$@" <<'PY'
import resource, subprocess, sys
wav, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
subprocess.run(["dotnet", "Sidecar/bin/Release/net10.0/CaptionSidecar.dll", "--input", f"file:{wav}", "--no-pacing",
                "--exit-at-end", "--engine", "openai", "--api-key", "test-key", "--realtime-endpoint",
                f"http://127.0.0.1:{port}/v1", "--transcript-dir", out, "--data-dir", out, "--log-level", "Warning"],
               stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")
PY
}
long_cpu="$(cpu "$work/long.wav" "$port" "$work/out-long")"
short_cpu="$(cpu "$work/short.wav" "$port" "$work/out-short")"
lines="$(grep -c -- '-->' "$work"/out-long/*-en.srt)"
python3 - <<PY
audio_min = ($audio_s - $short_s) / 60
per_min = ($long_cpu - $short_cpu) / audio_min
print(f"audio: {$audio_s/60:.1f} min (48 kHz stereo WAV), {$lines} caption lines in the SRT")
print(f"CPU: {$long_cpu:.2f} s for the long run, {$short_cpu:.2f} s for a {$short_s:.1f} s run (start-up, JIT, connect)")
print(f"pipeline CPU per audio minute: {per_min:.3f} s ({per_min/60*100:.2f}% of one core in real time)")
PY

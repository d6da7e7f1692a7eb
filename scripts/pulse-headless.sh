#!/usr/bin/env bash
# A headless PulseAudio for the audio capture tests: a user-mode daemon (also when run as root) with a null sink
# named caption_test whose monitor (caption_test.monitor) is the default source. Tests play a tone into the sink and
# record the monitor through the sidecar's PulseAudio capture.
#
#   scripts/pulse-headless.sh start    # install pulseaudio + pulseaudio-utils if missing (apt-get), start, wait until ready
#   scripts/pulse-headless.sh status   # exit 0 when the daemon answers and caption_test exists
#   scripts/pulse-headless.sh stop     # stop the daemon this script started (PID file), nothing else
#
# Idempotent: `start` with a daemon already answering only makes sure the sink exists and is the default. Clients
# (pactl, the tests) find the daemon at its default socket when they run as the same user with the same
# XDG_RUNTIME_DIR (set or unset) as this script.
set -euo pipefail

sink=caption_test
log() { printf '[pulse-headless] %s\n' "$*" >&2; }

# The daemon keeps PulseAudio's default socket location (under $XDG_RUNTIME_DIR, or for users without one, such as
# root in a container, /tmp/pulse-* linked from ~/.config/pulse), so clients of the same user need no settings.
state_dir="${XDG_RUNTIME_DIR:-/tmp}"
pid_file="$state_dir/caption-pulse-$(id -u).pid"
log_file="$state_dir/caption-pulse-$(id -u).log"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

install_if_missing() {
  if command -v pulseaudio >/dev/null 2>&1 && command -v pactl >/dev/null 2>&1 && command -v pacat >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "pulseaudio is missing and apt-get is not available: install pulseaudio and pulseaudio-utils by hand"
    return 1
  fi
  log "installing pulseaudio pulseaudio-utils"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pulseaudio pulseaudio-utils >/dev/null
}

answers() { timeout 5 pactl info >/dev/null 2>&1; }

has_sink() { timeout 5 pactl list short sinks 2>/dev/null | awk '{print $2}' | grep -qx "$sink"; }

ensure_sink() {
  if ! has_sink; then
    timeout 5 pactl load-module module-null-sink "sink_name=$sink" "sink_properties=device.description=CaptionSidecar_test" >/dev/null
  fi
  timeout 5 pactl set-default-sink "$sink"
  timeout 5 pactl set-default-source "$sink.monitor"
}

start() {
  install_if_missing
  if answers; then
    ensure_sink
    log "already running; default source $sink.monitor"
    return 0
  fi

  # -n: no default.pa (no hardware probing in a container); the modules loaded are exactly what the tests use.
  # --disallow-exit: a client cannot stop it; --exit-idle-time=-1: it stays up between test runs.
  # Root gets a warning that user mode is not meant for root; it works, and --system would need a 'pulse' user.
  pulseaudio --daemonize=yes --system=false -n \
    --exit-idle-time=-1 --disallow-exit=yes --use-pid-file=yes \
    --log-target="file:$log_file" --log-level=notice \
    --load=module-native-protocol-unix \
    --load="module-null-sink sink_name=$sink sink_properties=device.description=CaptionSidecar_test" \
    --load=module-always-sink \
    2>>"$log_file" || { log "pulseaudio failed to start; see $log_file"; tail -n 20 "$log_file" >&2 || true; return 1; }

  for _ in $(seq 1 50); do
    if answers; then break; fi
    sleep 0.1
  done
  if ! answers; then
    log "pulseaudio started but pactl gets no answer within 5 s; see $log_file"
    return 1
  fi
  ensure_sink

  local pid
  pid="$(pgrep -n -u "$(id -u)" -x pulseaudio || true)"
  if [ -n "$pid" ]; then printf '%s\n' "$pid" >"$pid_file"; fi
  log "running (pid ${pid:-unknown}, log $log_file); default source $sink.monitor"
}

status() {
  if answers && has_sink; then
    log "running; sink $sink present"
    return 0
  fi
  log "not running, or no $sink sink"
  return 1
}

stop() {
  if [ ! -f "$pid_file" ]; then
    log "no PID file ($pid_file): nothing started by this script"
    return 0
  fi
  local pid
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pulseaudio ]; then
    kill "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    log "stopped (pid $pid)"
  else
    log "pid $pid is not running pulseaudio any more"
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

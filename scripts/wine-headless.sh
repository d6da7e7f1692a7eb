#!/usr/bin/env bash
# Wine 8 for running the Windows build (CaptionSidecar.exe, the win-x64 test executables) on Debian/Ubuntu, headless:
# an isolated Wine prefix (not ~/.wine), its own Xvfb display (the tray icon and its menu need one), a persistent
# wineserver, and the settings the .NET runtime needs under Wine. Wine's WASAPI maps onto the PulseAudio daemon
# the user runs (start scripts/pulse-headless.sh first for the test sinks).
#
#   scripts/wine-headless.sh start          # install wine wine64 xvfb xdotool if missing, make the prefix, start Xvfb + wineserver
#   scripts/wine-headless.sh status         # exit 0 when the prefix exists and Xvfb and wineserver run
#   scripts/wine-headless.sh env            # the environment to run programs with, one KEY=VALUE per line
#   scripts/wine-headless.sh run PROG ARGS  # run a Windows program in that environment (e.g. run CaptionSidecar.exe --version)
#   scripts/wine-headless.sh stop           # stop the wineserver and Xvfb this script started
#
# The settings, and why (found running the win-x64 build under Debian's Wine 8.0):
#   DOTNET_EnableWriteXorExecute=0   else the CLR dies within seconds: "Internal CLR error (0x80131506)" in a finalizer
#   WINEDLLOVERRIDES                 winedbg.exe=d: a crash exits instead of hanging in the debugger; mshtml=d: no
#                                    Gecko download prompt; winemenubuilder.exe=d: no desktop files. Never disable
#                                    mscoree (the .NET apphost needs it).
#   WINEDEBUG=-all                   Wine's own diagnostics would fill stderr, which the tests read.
# Stop programs with SIGINT: under Wine, SIGTERM ends the process without .NET's graceful shutdown.
set -euo pipefail

log() { printf '[wine-headless] %s\n' "$*" >&2; }

dir="${CAPTION_WINE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/caption-wine-$(id -u)}"
prefix="$dir/prefix"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

install_missing() {
  local missing=()
  command -v wine >/dev/null 2>&1 || missing+=(wine)
  command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
  command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
  command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
  command -v xwd >/dev/null 2>&1 || missing+=(x11-apps)
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]} and apt-get is not available: install them by hand"
    return 1
  fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

live_pid() { # pidfile name
  local pid
  [ -f "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

free_display() {
  local n
  for n in $(seq 140 199); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then echo "$n"; return 0; fi
  done
  return 1
}

print_env() {
  printf 'WINEPREFIX=%s\n' "$prefix"
  printf 'WINEARCH=win64\n'
  printf 'WINEDEBUG=-all\n'
  printf 'WINEDLLOVERRIDES=%s\n' 'winedbg.exe=d;mshtml=d;winemenubuilder.exe=d'
  printf 'DOTNET_EnableWriteXorExecute=0\n'
  printf 'DOTNET_CLI_TELEMETRY_OPTOUT=1\n'
  printf 'DISPLAY=:%s\n' "$(cat "$dir/display" 2>/dev/null || echo 0)"
}

with_env() {
  local -a vars=()
  while IFS= read -r line; do vars+=("$line"); done < <(print_env)
  env "${vars[@]}" "$@"
}

start() {
  install_missing
  mkdir -p "$dir"
  if ! live_pid "$dir/xvfb.pid" Xvfb >/dev/null; then
    local display xpid
    display="$(free_display)" || { log "no free X display number"; return 1; }
    setsid Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$dir/xvfb.log" 2>&1 </dev/null &
    xpid=$!
    echo "$xpid" >"$dir/xvfb.pid"
    echo "$display" >"$dir/display"
    for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
    [ -e "/tmp/.X11-unix/X$display" ] || { log "Xvfb :$display did not start (see $dir/xvfb.log)"; return 1; }
  fi

  if [ ! -f "$prefix/system.reg" ]; then
    log "creating the Wine prefix $prefix"
    with_env wineboot --init >"$dir/wineboot.log" 2>&1 || { log "wineboot failed (see $dir/wineboot.log)"; return 1; }
  fi

  # A persistent wineserver: each program starts in about a second instead of booting the prefix again.
  # (a server left from wineboot or an earlier run is replaced; -p daemonises).
  with_env wineserver -k >/dev/null 2>&1 || true
  with_env wineserver -w >/dev/null 2>&1 || true
  with_env setsid wineserver -p >"$dir/wineserver.log" 2>&1 </dev/null
  for _ in $(seq 1 50); do
    pgrep -f "wineserver" >/dev/null 2>&1 && break
    sleep 0.1
  done
  # Start the prefix's long-lived services (services.exe, plugplay, winedevice, the desktop process) now, with their
  # output going to a log: the first program run would otherwise start them with its own stdout and stderr, and
  # they would hold the pipes of whoever ran it (a test waiting for end of output) open long after it exits.
  with_env wineboot >"$dir/services.log" 2>&1 </dev/null || true
  with_env wine cmd /c exit >>"$dir/services.log" 2>&1 </dev/null || true
  log "ready: prefix $prefix, display :$(cat "$dir/display")"
}

status() {
  if [ -f "$prefix/system.reg" ] && live_pid "$dir/xvfb.pid" Xvfb >/dev/null && pgrep -f "wineserver" >/dev/null 2>&1; then
    echo "running: prefix $prefix, display :$(cat "$dir/display")"
    return 0
  fi
  echo "not running"
  return 1
}

stop() {
  if [ -d "$prefix" ]; then with_env wineserver -k >/dev/null 2>&1 || true; fi
  local pid
  if pid="$(live_pid "$dir/xvfb.pid" Xvfb)"; then
    kill "$pid" 2>/dev/null || true
    log "stopped Xvfb (pid $pid)"
  fi
  rm -f "$dir/xvfb.pid"
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  env) print_env ;;
  run) shift; with_env wine "$@" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac

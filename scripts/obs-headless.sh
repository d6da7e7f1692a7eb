#!/usr/bin/env bash
# Runs a real OBS Studio headless (under Xvfb) with the obs-websocket server on, isolated from the user's own OBS
# and from the internet, for the OBS tests and benchmarks.
#
#   scripts/obs-headless.sh start    # install obs-studio/xvfb if missing, start Xvfb + OBS, wait for the socket, print OBS PID
#   scripts/obs-headless.sh stop     # stop only the OBS and Xvfb this script started (PID files)
#   scripts/obs-headless.sh status   # exit 0 when OBS is running and the socket answers with a Hello
#
# Environment: OBS_PORT (default 4455), OBS_PASSWORD (default: generated once, kept in .test-peers/obs/password),
# OBS_HEADLESS_DIR (default <repo>/.test-peers/obs). Files written there: password, port, obs.pid, xvfb.pid,
# display, obs.log, xvfb.log, and the isolated HOME (home/) with OBS's configuration.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${OBS_HEADLESS_DIR:-$repo/.test-peers/obs}"
home="$dir/home"
config="$home/.config/obs-studio"
port_default=4455

log() { printf '[obs-headless] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

# Process from a PID file, only if it is still the program we started (guards against PID reuse).
live_pid() { # file expected-command-substring
  local file="$1" want="$2" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$want" || return 1
  # A zombie (killed, not yet reaped by its parent) is not running.
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ] || return 1
  echo "$pid"
}

install_missing() {
  local missing=() p
  for p in obs-studio xvfb libgl1-mesa-dri x11-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: install ${missing[*]} by hand"; return 1
  fi
  log "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

password() {
  if [ -n "${OBS_PASSWORD:-}" ]; then
    printf '%s' "$OBS_PASSWORD"
  elif [ -s "$dir/password" ]; then
    cat "$dir/password"
  else
    head -c 18 /dev/urandom | base64 | tr -d '/+=\n'
  fi
}

# Writes the isolated OBS configuration: WebSocket server on with a password, no first-run wizard, no update
# checks, one scene collection with one scene. Rewritten on every start so OBS_PORT/OBS_PASSWORD changes apply.
write_config() {
  local port="$1" pw="$2"
  mkdir -p "$config/basic/scenes" "$config/basic/profiles/CaptionTest" "$config/plugin_config/obs-websocket" \
    "$home/.runtime"
  chmod 700 "$home/.runtime"
  # LastVersion (29.0.2 encoded) plus FirstRun=true keeps the auto-configuration wizard away, also after a SIGKILL.
  cat >"$config/global.ini" <<EOF
[General]
FirstRun=true
LastVersion=486539266
EnableAutoUpdates=false
ConfirmOnExit=false

[Basic]
Profile=CaptionTest
ProfileDir=CaptionTest
SceneCollection=CaptionTest
SceneCollectionFile=CaptionTest

[BasicWindow]
SysTrayEnabled=false
SysTrayWhenStarted=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=$port
AlertsEnabled=false
AuthRequired=true
ServerPassword=$pw
EOF
  # OBS 31+ reads FirstRun from user.ini; obs-websocket 5.5+ reads config.json (older versions ignore both).
  printf '[General]\nFirstRun=true\n' >"$config/user.ini"
  cat >"$config/plugin_config/obs-websocket/config.json" <<EOF
{"first_load": false, "server_enabled": true, "server_port": $port, "alerts_enabled": false,
 "auth_required": true, "server_password": "$pw"}
EOF
  cat >"$config/basic/profiles/CaptionTest/basic.ini" <<EOF
[General]
Name=CaptionTest

[Video]
BaseCX=1920
BaseCY=1080
OutputCX=1280
OutputCY=720
FPSType=0
FPSCommon=30
EOF
  if [ ! -f "$config/basic/scenes/CaptionTest.json" ]; then
    cat >"$config/basic/scenes/CaptionTest.json" <<'EOF'
{"name": "CaptionTest", "current_scene": "Scene", "current_program_scene": "Scene",
 "scene_order": [{"name": "Scene"}],
 "sources": [{"id": "scene", "versioned_id": "scene", "name": "Scene", "uuid": "6b1c9a52-9f53-4d64-8b1e-5a3f7f0c2a11",
              "settings": {"items": [], "id_counter": 0, "custom_size": false}, "enabled": true}],
 "groups": [], "transitions": [], "current_transition": "Fade", "transition_duration": 300}
EOF
  fi
}

# True when the port answers a WebSocket upgrade with an obs-websocket Hello (the server sends it unmasked, so the
# JSON shows up verbatim in the byte stream).
hello_ok() {
  local port="$1"
  timeout 4 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$port"' || exit 1
    printf "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: obswebsocket.json\r\n\r\n" >&3
    # The Hello has no line end, so read for a moment and search what arrived.
    timeout 1 cat <&3 | grep -a -q "obsWebSocketVersion"
  ' 2>/dev/null
}

free_display() {
  local n
  for n in $(seq 99 199); do
    if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then echo "$n"; return 0; fi
  done
  return 1
}

start() {
  local port="${OBS_PORT:-$port_default}" pw pid xpid display
  mkdir -p "$dir"
  if pid="$(live_pid "$dir/obs.pid" obs)"; then
    if hello_ok "$(cat "$dir/port")"; then echo "$pid"; return 0; fi
    log "OBS (pid $pid) runs but its socket does not answer yet; waiting"
  else
    install_missing
    pw="$(password)"
    printf '%s' "$pw" >"$dir/password"; chmod 600 "$dir/password"
    printf '%s' "$port" >"$dir/port"
    if hello_ok "$port"; then
      log "port $port already answers obs-websocket but not from an OBS this script started; set OBS_PORT"
      return 1
    fi
    write_config "$port" "$pw"

    if ! xpid="$(live_pid "$dir/xvfb.pid" Xvfb)"; then
      display="$(free_display)" || { log "no free X display number"; return 1; }
      setsid Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$dir/xvfb.log" 2>&1 </dev/null &
      xpid=$!
      echo "$xpid" >"$dir/xvfb.pid"
      echo "$display" >"$dir/display"
      for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
      [ -e "/tmp/.X11-unix/X$display" ] || { log "Xvfb :$display did not start (see $dir/xvfb.log)"; return 1; }
    fi
    display="$(cat "$dir/display")"

    # Closed local port as proxy: rtmp-services and other plugins that fetch from the internet fail locally, and
    # no name lookup leaves the machine. Empty no_proxy so even localhost-looking names go to the dead proxy.
    (
      cd "$home"
      exec setsid env -i PATH="$PATH" HOME="$home" XDG_CONFIG_HOME="$home/.config" \
        XDG_RUNTIME_DIR="$home/.runtime" XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" \
        DISPLAY=":$display" LIBGL_ALWAYS_SOFTWARE=1 QT_QPA_PLATFORM=xcb \
        http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
        HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 no_proxy= \
        obs --multi --disable-updater --disable-missing-files-check --minimize-to-tray
    ) >"$dir/obs.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/obs.pid"
  fi

  port="$(cat "$dir/port")"
  for _ in $(seq 1 120); do
    if hello_ok "$port"; then echo "$pid"; return 0; fi
    if ! live_pid "$dir/obs.pid" obs >/dev/null; then
      log "OBS exited during start (see $dir/obs.log)"; tail -n 20 "$dir/obs.log" >&2 || true; return 1
    fi
    sleep 0.5
  done
  log "OBS (pid $pid) did not accept WebSocket connections on port $port within 60 s (see $dir/obs.log)"
  return 1
}

stop_pid() { # pidfile name signal
  local pid
  if pid="$(live_pid "$1" "$2")"; then
    kill -s "$3" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do live_pid "$1" "$2" >/dev/null || break; sleep 0.1; done
    if live_pid "$1" "$2" >/dev/null; then
      log "$2 (pid $pid) did not exit on SIG$3; killing it"
      kill -s KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $2 (pid $pid)"
  fi
  rm -f "$1"
}

stop() {
  # SIGINT is OBS's clean quit (saves the scene collection).
  stop_pid "$dir/obs.pid" obs INT
  stop_pid "$dir/xvfb.pid" Xvfb TERM
}

status() {
  local pid
  if pid="$(live_pid "$dir/obs.pid" obs)" && hello_ok "$(cat "$dir/port")"; then
    echo "running: pid $pid, ws://127.0.0.1:$(cat "$dir/port"), display :$(cat "$dir/display")"
    return 0
  fi
  echo "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

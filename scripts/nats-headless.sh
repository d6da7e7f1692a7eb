#!/usr/bin/env bash
# An isolated NATS server (Debian's nats-server, JetStream on) for the viewer relay: its own port, its own store and
# a config with the two users of docs/relay.md, each with least privilege:
#   sidecar  may only publish its stream's captions ($KV.captions.STREAM.>)
#   relay    may only read: subscribe to its inboxes, and the JetStream API calls a key-value watch needs
#
#   scripts/nats-headless.sh start [--port N] [--stream NAME]...   # install if missing, start, wait until ready
#   scripts/nats-headless.sh status                                  # exit 0 when it answers
#   scripts/nats-headless.sh env                                     # print the URLs (with passwords) as shell exports
#   scripts/nats-headless.sh stop                                    # stop the server this script started
#   scripts/nats-headless.sh config --dir DIR --port N --http-port N [--stream NAME]...
#                                                                    # only write DIR/nats.conf and DIR/users.env
#                                                                    # (tests start their own servers from it)
#
# Defaults: port 14222 (monitoring 18222), stream "demo". Passwords are made once per state folder and kept in
# users.env (mode 600); `env` prints them. Idempotent: `start` with the server already answering does nothing.
set -euo pipefail

log() { printf '[nats-headless] %s\n' "$*" >&2; }

state_dir="${XDG_RUNTIME_DIR:-/tmp}/caption-nats-$(id -u)"
pid_file="$state_dir/nats.pid"
log_file="$state_dir/nats.log"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

install_if_missing() {
  if command -v nats-server >/dev/null 2>&1; then
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "nats-server is missing and apt-get is not available: install nats-server (2.9 or later) by hand"
    return 1
  fi
  log "installing nats-server"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server >/dev/null
}

password() { head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 24; }

# write_config DIR PORT HTTP_PORT STREAM...
write_config() {
  local dir="$1" port="$2" http_port="$3"; shift 3
  local streams=("$@")
  [ ${#streams[@]} -gt 0 ] || streams=(demo)
  mkdir -p "$dir/jetstream"
  if [ ! -f "$dir/users.env" ]; then
    (umask 077; {
      echo "NATS_SIDECAR_PASSWORD=$(password)"
      echo "NATS_RELAY_PASSWORD=$(password)"
      echo "NATS_ADMIN_PASSWORD=$(password)"
    } > "$dir/users.env")
  fi
  # shellcheck disable=SC1091
  . "$dir/users.env"
  local publish="" s
  for s in "${streams[@]}"; do
    if ! [[ "$s" =~ ^[A-Za-z0-9-]{1,64}$ ]]; then
      log "'$s' is not a stream name: use 1 to 64 letters, digits and dashes"
      return 2
    fi
    publish="$publish\"\$KV.captions.${s,,}.>\", "
  done
  (umask 077; cat > "$dir/nats.conf" <<EOF
# Written by scripts/nats-headless.sh. Users and permissions: docs/relay.md.
server_name: caption_nats
host: 127.0.0.1
port: $port
http: "127.0.0.1:$http_port"
max_payload: 1MB
jetstream {
  store_dir: "$dir/jetstream"
  max_memory_store: 64MB
  max_file_store: 1GB
}
accounts {
  CAPTIONS {
    jetstream: enabled
    users: [
      # The streamer's sidecar: publishes its stream's captions, nothing else.
      { user: sidecar, password: "$NATS_SIDECAR_PASSWORD",
        permissions: { publish: { allow: [${publish%, }] }, subscribe: { allow: ["_INBOX.>"] } } }
      # A relay: reads. Publishing is limited to the JetStream API requests of a key-value watch (and of creating the
      # bucket once); it can never publish a caption.
      { user: relay, password: "$NATS_RELAY_PASSWORD",
        permissions: {
          publish: {
            allow: ["\$JS.API.INFO", "\$JS.API.STREAM.INFO.KV_captions", "\$JS.API.STREAM.CREATE.KV_captions",
                    "\$JS.API.CONSUMER.CREATE.KV_captions", "\$JS.API.CONSUMER.CREATE.KV_captions.>",
                    "\$JS.API.CONSUMER.DELETE.KV_captions.>", "\$JS.API.CONSUMER.INFO.KV_captions.>",
                    "\$JS.API.DIRECT.GET.KV_captions.>", "\$JS.FC.KV_captions.>"]
            deny: ["\$KV.>"]
          }
          subscribe: { allow: ["_INBOX.>"] }
        } }
      # Tests and the operator: everything.
      { user: admin, password: "$NATS_ADMIN_PASSWORD" }
    ]
  }
}
EOF
  )
}

pid_alive() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

http_port() { sed -n 's/^http: "127.0.0.1:\([0-9]*\)"/\1/p' "$state_dir/nats.conf" 2>/dev/null; }

answers() {
  local p
  p="$(http_port)"
  [ -n "$p" ] && timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && grep -q '\"ok\"' <&3" 2>/dev/null
}

start() {
  local port=14222 streams=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --stream) streams+=("$2"); shift 2 ;;
      *) log "unknown option $1"; return 2 ;;
    esac
  done
  install_if_missing
  if pid_alive && answers; then
    log "already running (pid $(cat "$pid_file")); scripts/nats-headless.sh env prints the URLs"
    return 0
  fi
  write_config "$state_dir" "$port" $((port + 4000)) "${streams[@]}"
  nohup nats-server -c "$state_dir/nats.conf" >"$log_file" 2>&1 &
  echo $! > "$pid_file"
  for _ in $(seq 1 100); do
    if answers; then
      log "ready: nats://127.0.0.1:$port (JetStream on, store $state_dir/jetstream); scripts/nats-headless.sh env prints the URLs"
      return 0
    fi
    if ! pid_alive; then
      log "nats-server exited at start; its log ($log_file):"
      tail -n 20 "$log_file" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  log "nats-server did not answer within 10 s (log $log_file)"
  return 1
}

status() {
  if pid_alive && answers; then
    log "running (pid $(cat "$pid_file"))"
    return 0
  fi
  log "not running"
  return 1
}

print_env() {
  [ -f "$state_dir/users.env" ] || { log "not started yet: scripts/nats-headless.sh start"; return 1; }
  # shellcheck disable=SC1091
  . "$state_dir/users.env"
  local port
  port="$(sed -n 's/^port: \([0-9]*\)/\1/p' "$state_dir/nats.conf")"
  echo "export CAPTION_NATS_SIDECAR_URL='nats://sidecar:$NATS_SIDECAR_PASSWORD@127.0.0.1:$port'"
  echo "export CAPTION_NATS_RELAY_URL='nats://relay:$NATS_RELAY_PASSWORD@127.0.0.1:$port'"
  echo "export CAPTION_NATS_ADMIN_URL='nats://admin:$NATS_ADMIN_PASSWORD@127.0.0.1:$port'"
}

stop() {
  if pid_alive; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive || break; sleep 0.1; done
    log "stopped"
  fi
  rm -f "$pid_file"
}

config() {
  local dir="" port="" http="" streams=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="$2"; shift 2 ;;
      --port) port="$2"; shift 2 ;;
      --http-port) http="$2"; shift 2 ;;
      --stream) streams+=("$2"); shift 2 ;;
      *) log "unknown option $1"; return 2 ;;
    esac
  done
  if [ -z "$dir" ] || [ -z "$port" ] || [ -z "$http" ]; then
    log "config needs --dir, --port and --http-port"
    return 2
  fi
  write_config "$dir" "$port" "$http" "${streams[@]}"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) status ;;
  env) print_env ;;
  stop) stop ;;
  config) shift; config "$@" ;;
  *) echo "usage: $0 start [--port N] [--stream NAME]... | status | env | stop | config --dir DIR --port N --http-port N [--stream NAME]..." >&2; exit 2 ;;
esac

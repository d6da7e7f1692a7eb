#!/usr/bin/env bash
# Runs every test of CaptionSidecar: installs what the tests need on Debian/Ubuntu (the speech tools, and the real
# peers: headless OBS, PulseAudio, Chromium, as each issue adds them), builds, runs all test projects, and ends
# with one line "N passed, N failed" (", N skipped" when any were skipped). Exit code 0 only when nothing failed.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --no-install    # skip the package installation step
#   scripts/test.sh -- <args>       # extra arguments for `dotnet test` (e.g. filters)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

install=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[test.sh] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

# Debian packages the tests use: speech synthesis and audio tools for the end-to-end tests, Chromium for the overlay
# and control page tests (driven by Playwright, never a downloaded browser), nginx for the viewer relay behind a reverse
# proxy (each test starts its own, as the current user, from a temporary config), openssl for the certificates of
# the NATS-over-TLS test; the real peers (a
# PulseAudio daemon, headless OBS under Xvfb) are installed and started by their own scripts below.
packages=(espeak-ng sox chromium nginx openssl)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "test packages present"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: install ${missing[*]} by hand (tests needing them skip locally, fail under CI)"
    return 0
  fi
  log "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "$install" -eq 1 ]; then
  install_packages
fi

# Real peers: each script installs what it needs when missing, starts the peer isolated from the user's own
# (own config folders, own display, own sockets), waits until it answers, and is stopped again when the tests end.
started_peers=()
stop_peers() {
  for peer in "${started_peers[@]}"; do bash "scripts/$peer" stop >/dev/null 2>&1 || true; done
}
trap stop_peers EXIT
for peer in pulse-headless.sh obs-headless.sh wine-headless.sh nats-headless.sh; do
  [ -f "scripts/$peer" ] || continue
  if bash "scripts/$peer" status >/dev/null 2>&1; then
    log "peer already running (left running afterwards): $peer"
    bash "scripts/$peer" start >&2 || log "peer $peer did not answer"
    continue
  fi
  log "starting peer: $peer"
  if bash "scripts/$peer" start >&2; then
    started_peers+=("$peer")
  else
    # The tests that need this peer fail under CI (and skip locally) with a message naming it.
    log "peer $peer did not start"
  fi
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mkdir -p artifacts
out="artifacts/test-output.txt"
log "building"
if ! dotnet build CaptionSidecar.sln -c Release -v q -nologo 2>&1 | tee artifacts/build-output.txt | tail -n 3; then
  echo "0 passed, 1 failed"
  exit 1
fi
if ! grep -qE '^\s*0 Error\(s\)' artifacts/build-output.txt; then
  log "build failed (see artifacts/build-output.txt)"
  echo "0 passed, 1 failed"
  exit 1
fi

# The Windows release the Wine tests run (Tests/Sidecar.Tests/Windows): published once here, after the build.
if ! bash scripts/publish.sh win-x64 >artifacts/publish-output.txt 2>&1; then
  log "publishing the Windows release failed (see artifacts/publish-output.txt); the Wine tests will say so"
fi

# The Windows unit tests (run under Wine after the main run): each test project published for win-x64,
# self-contained, JIT (ReadyToRun buys nothing for one run), on Microsoft.Testing.Platform's command line, without
# .pdb files (under Wine a failing test's stack trace would hang about 30 s resolving symbols). ObsBridge.Tests and
# Overlay.Tests share no project, so they publish in parallel; Sidecar.Tests (which builds both libraries) after.
wine_tests=(ObsBridge.Tests Overlay.Tests Sidecar.Tests)
wine_problems=()
wine_ready=0
if bash scripts/wine-headless.sh status >/dev/null 2>&1; then
  wine_ready=1
  rm -rf artifacts/wintests
  mkdir -p artifacts/wintests
  publish_test() {
    dotnet publish "Tests/$1/$1.csproj" -c Release -r win-x64 --self-contained true -o "artifacts/wintests/$1" \
      -nologo -v q -p:DebugType=none -p:PublishReadyToRun=false -p:UseMicrosoftTestingPlatformRunner=true \
      >"artifacts/wintests/publish-$1.txt" 2>&1
  }
  started=$SECONDS
  publish_test ObsBridge.Tests & obs_pid=$!
  publish_test Overlay.Tests & overlay_pid=$!
  wait "$obs_pid" || wine_problems+=("publishing ObsBridge.Tests for win-x64 failed (artifacts/wintests/publish-ObsBridge.Tests.txt)")
  wait "$overlay_pid" || wine_problems+=("publishing Overlay.Tests for win-x64 failed (artifacts/wintests/publish-Overlay.Tests.txt)")
  publish_test Sidecar.Tests || wine_problems+=("publishing Sidecar.Tests for win-x64 failed (artifacts/wintests/publish-Sidecar.Tests.txt)")
  log "published the Windows test projects in $((SECONDS - started)) s"
elif [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
  wine_problems+=("Wine is not running (scripts/wine-headless.sh start): the Windows unit tests cannot run")
else
  log "Wine is not running: the Windows unit tests are left out (under CI=true this fails)"
fi

log "running tests"
set +e
# One test module at a time: the OBS tests of two modules share one real OBS, and some of them restart it.
dotnet test --solution CaptionSidecar.sln -c Release --no-build --max-parallel-test-modules 1 \
  --results-directory artifacts/TestResults "${extra[@]}" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

# Microsoft.Testing.Platform prints one summary block for the whole run:
#   total: N / failed: N / succeeded: N / skipped: N
summary="$(sed -n '/Test run summary/,$p' "$out")"
num() { printf '%s\n' "$summary" | sed -n "s/^[[:space:]]*$1:[[:space:]]*\([0-9][0-9]*\).*/\1/p" | tail -n 1; }
passed="$(num succeeded)"; failed="$(num failed)"; skipped="$(num skipped)"
passed="${passed:-0}"; failed="${failed:-0}"; skipped="${skipped:-0}"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The runner failed without counting a failed test (crash, zero tests, build problem): count it as one.
  log "dotnet test exited with $status"
  failed=1
fi

# The Windows unit tests under Wine, one test executable at a time, integration tests (which start `dotnet`, absent
# inside Wine) and tests marked [Trait("Wine", "Excluded")] (each says why) left out. Each run's summary is added to the totals; a run that crashes, hangs (WINE_TEST_TIMEOUT,
# 600 s by default: a CLR that dies under Wine may hang instead of exiting) or counts nothing counts as one failure.
if [ "$wine_ready" -eq 1 ]; then
  for project in "${wine_tests[@]}"; do
    exe="artifacts/wintests/$project/$project.exe"
    [ -f "$exe" ] || continue
    wine_out="$repo/artifacts/wintests/run-$project.txt"
    log "running the Windows unit tests of $project under Wine"
    started=$SECONDS
    set +e
    # DOTNET_gcConcurrent=0: with background GC, two of two Sidecar.Tests runs died under Wine with "Fatal error.
    # SuspendThread failed with error 5" (and then hung); every run with it has passed.
    (cd "artifacts/wintests/$project" && DOTNET_gcConcurrent=0 timeout -k 20 "${WINE_TEST_TIMEOUT:-600}" bash "$repo/scripts/wine-headless.sh" run "$project.exe" \
      --filter-not-trait "Category=Integration" --filter-not-trait "Wine=Excluded" --progress off --no-ansi) >"$wine_out" 2>&1
    wine_status=$?
    set -e
    summary="$(sed -n '/Test run summary/,$p' "$wine_out")"
    w_total="$(num total)"; w_passed="$(num succeeded)"; w_failed="$(num failed)"; w_skipped="$(num skipped)"
    w_passed="${w_passed:-0}"; w_failed="${w_failed:-0}"; w_skipped="${w_skipped:-0}"
    grep -E '^(failed|skipped) ' "$wine_out" | sed "s/^/[wine $project] /" >&2 || true
    log "$project under Wine: $w_passed passed, $w_failed failed, $w_skipped skipped in $((SECONDS - started)) s (exit $wine_status; artifacts/wintests/run-$project.txt)"
    if [ "${w_total:-0}" -eq 0 ] || { [ "$wine_status" -ne 0 ] && [ "$w_failed" -eq 0 ]; }; then
      wine_problems+=("$project under Wine exited with $wine_status after counting ${w_total:-no} tests (see artifacts/wintests/run-$project.txt)")
    fi
    passed=$((passed + w_passed)); failed=$((failed + w_failed)); skipped=$((skipped + w_skipped))
  done
fi
for problem in "${wine_problems[@]}"; do
  log "$problem"
  failed=$((failed + 1))
done

# A recap of every failed test with the first lines of its message, last, where a log that keeps only its tail
# still shows which test failed and why.
recap() {
  sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$@" 2>/dev/null | awk '
    /^[[:space:]]*failed .*\([0-9][0-9a-z. ]*\)[[:space:]]*$/ { n = 14; print "[test.sh] " $0; next }
    n > 0 && /^[[:space:]]/ { n--; print "[test.sh]   " $0; next }
    { n = 0 }'
}
if [ "$failed" -gt 0 ]; then
  log "failed tests:"
  recap "$out" artifacts/wintests/run-*.txt >&2 || true
fi

line="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then line="$line, $skipped skipped"; fi
echo "$line"
[ "$failed" -eq 0 ]

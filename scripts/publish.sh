#!/usr/bin/env bash
# Builds the releases a streamer downloads: self-contained (no .NET install needed), single-file, ReadyToRun
# (precompiled: faster start), one per runtime identifier, into artifacts/release/<rid>/, with an archive and its
# SHA-256 beside it in artifacts/release/.
#
#   scripts/publish.sh                      # win-x64 linux-x64 osx-arm64
#   scripts/publish.sh win-x64              # only the Windows one
#   scripts/publish.sh --no-r2r linux-x64   # JIT only (for the start-up comparison in docs/benchmarks.md)
#   scripts/publish.sh --out DIR linux-x64  # into DIR/<rid>/ and DIR/<archive> instead of artifacts/release
#
# A release folder holds the executable (CaptionSidecar.exe on Windows), appsettings.json (the defaults, read from
# beside the executable; README.md documents them) and README.md; the archive holds that folder as
# CaptionSidecar-<version>-<rid>/ (.zip on Windows, .tar.gz elsewhere), and <archive>.sha256 is in `sha256sum -c`
# form. The Web SDK's web.config (IIS) and static web assets manifest (empty: the overlay and control pages are
# embedded resources of CaptionSidecar.Overlay) are left out; any other file the publish produces stops the script.
#
# The Windows release extracts its bundled files on first start (IncludeAllContentForSelfExtract, into
# %TEMP%\.net\CaptionSidecar\<hash>): the .NET single-file host that maps the runtime straight out of the bundle
# fails under Wine ("Failed to create CoreCLR, HRESULT: 0x80070057"), and the release is the build CI tests under
# Wine. osx-arm64 is cross-compiled here (crossgen2 targets macOS arm64 from Linux; the SDK signs it ad hoc) but has
# never run on a Mac in CI. Not trimmed (see docs/windows.md).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf '[publish] %s\n' "$*" >&2; }

r2r=true
release="artifacts/release"
rids=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-r2r) r2r=false ;;
    --out) shift; release="${1:?--out needs a folder}" ;;
    -*) log "unknown option $1 (see the header of $0)"; exit 2 ;;
    *) rids+=("$1") ;;
  esac
  shift
done
[ ${#rids[@]} -gt 0 ] || rids=(win-x64 linux-x64 osx-arm64)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
version="${version:-0.0.0}"
mkdir -p "$release"
release="$(cd "$release" && pwd)"

for rid in "${rids[@]}"; do
  out="$release/$rid"
  rm -rf "$out"
  extract=false
  case "$rid" in win-*) extract=true ;; esac
  log "publishing $rid (ReadyToRun: $r2r) into $out"
  dotnet publish Sidecar/Sidecar.csproj -c Release -r "$rid" --self-contained true -o "$out" -nologo -v q \
    -p:PublishSingleFile=true -p:PublishReadyToRun="$r2r" -p:IncludeNativeLibrariesForSelfExtract=true \
    -p:IncludeAllContentForSelfExtract="$extract" -p:DebugType=none -p:IsTransformWebConfigDisabled=true >&2
  rm -f "$out"/*.pdb "$out"/*.xml "$out"/web.config "$out"/*.staticwebassets.endpoints.json
  cp README.md "$out/README.md"
  exe=CaptionSidecar
  [[ "$rid" == win-* ]] && exe=CaptionSidecar.exe
  expected="$(printf '%s\n' "$exe" README.md appsettings.json | sort)"
  actual="$(cd "$out" && ls -A | sort)"
  if [ "$actual" != "$expected" ]; then
    log "unexpected files in $out (expected: $(echo $expected)); got: $(echo $actual)"
    exit 1
  fi

  name="CaptionSidecar-$version-$rid"
  if [[ "$rid" == win-* ]]; then
    archive="$release/$name.zip"
    rm -f "$archive"
    (cd "$out" && python3 -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(".")):
        z.write(f, os.path.join(sys.argv[2], f))' "$archive" "$name")
  else
    archive="$release/$name.tar.gz"
    tar -C "$release" -czf "$archive" --owner=0 --group=0 --numeric-owner --transform "s,^$rid,$name," "$rid"
  fi
  (cd "$release" && sha256sum "$(basename "$archive")" >"$(basename "$archive").sha256")
  log "$archive ($(du -h "$archive" | cut -f1)), sha256 $(cut -d' ' -f1 "$archive.sha256")"
done

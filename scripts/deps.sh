#!/usr/bin/env bash
# Installs what building and testing Sessionguard needs on a Debian machine:
# Debian packages (only the missing ones) and pinned Go tools. Idempotent.
# Usage: scripts/deps.sh [group...]   groups: base (default), keyring, fyne, window, postgres,
#        package (fyne package: xz and the fyne CLI), windows (mingw-w64 cross-build),
#        mobile (GLES headers: Fyne's `mobile` build tag compiles its phone GL driver),
#        browser (Chromium, which the headless browser tests of webtest/ drive)
set -euo pipefail

STATICCHECK_VERSION=v0.8.2
FYNE_CLI_VERSION=v2.7.1 # the fyne CLI for `fyne package`: the same version as fyne.io/fyne/v2 in go.mod

declare -A PKG_GROUPS=(
  [base]="gcc libc6-dev git make ca-certificates curl"
  [keyring]="dbus gnome-keyring libsecret-tools"
  [fyne]="gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev"
  [window]="xvfb xauth imagemagick xdotool"
  [postgres]="postgresql"
  [package]="xz-utils"
  [windows]="gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64"
  [mobile]="libgles-dev"
  [browser]="chromium"
)

want=()
for g in "${@:-base}"; do
  [[ -n "${PKG_GROUPS[$g]+x}" ]] || { echo "deps.sh: unknown group $g" >&2; exit 2; }
  for p in ${PKG_GROUPS[$g]}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
  done
done

if ((${#want[@]})); then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      echo "deps.sh: missing Debian packages. Run as root:" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${want[*]}" >&2
      exit 1
    fi
  fi
  echo "deps.sh: installing ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

gobin=$(go env GOPATH)/bin
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  echo "deps.sh: installing staticcheck $STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
if [[ " $* " == *" package "* ]] && ! "$gobin/fyne" version 2>/dev/null | grep -q "cli version: ${FYNE_CLI_VERSION}$"; then
  echo "deps.sh: installing the fyne CLI $FYNE_CLI_VERSION"
  go install "fyne.io/fyne/v2/cmd/fyne@$FYNE_CLI_VERSION"
fi

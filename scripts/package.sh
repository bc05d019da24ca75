#!/usr/bin/env bash
# Builds an installable Sessionguard package with `fyne package`, reading the
# name, ID, version, build and icon from FyneApp.toml.
# Usage: [PACKAGE_REF=commit] scripts/package.sh [--check] linux|windows|android|ios [OUTDIR]
#   --check only says whether this machine can build that target (NDK, Xcode).
#   linux    build/package/linux/Sessionguard-VERSION-linux-amd64.tar.xz
#            (binary, .desktop file, icon and an install Makefile)
#   windows  build/package/windows/Sessionguard-VERSION-windows-amd64.exe
#            (cross-built with mingw-w64: icon, manifest and version resource)
#   android  build/package/android/Sessionguard-VERSION.apk   (needs the Android NDK)
#   ios      build/package/ios/Sessionguard.app               (needs macOS with Xcode)
# Each is checked by scripts/package-check.sh after building.
#
# fyne package writes into the folder it builds (a generated
# fyne_metadata_init.go, and FyneApp.toml's Build bumped afterwards), so it
# runs on a copy of the working tree in build/package/src-OS, never on the
# tree itself (one copy per target, so targets can build side by side).
# Release builds are -trimpath, so Go's build cache serves every copy.
set -euo pipefail

check_only=
if [[ ${1:-} == --check ]]; then check_only=1; shift; fi
os=${1:?usage: scripts/package.sh [--check] linux|windows|android|ios [OUTDIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$top/build/package/$os}
stage=$top/build/package/src-$os
gobin=$(go env GOPATH)/bin
fyne=$gobin/fyne
readme="see README.md, \"Building for phones\""

die() { echo "package.sh: $*" >&2; exit 1; }

# FyneApp.toml [Details] value of $1.
detail() {
  sed -n '/^\[Details\]/,/^\[/p' "$top/FyneApp.toml" | sed -n -E "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"?([^\"]*)\"?[[:space:]]*$/\1/p" | head -1
}
name=$(detail Name)
id=$(detail ID)
version=$(detail Version)
icon=$(detail Icon)
[[ -n $name && -n $id && -n $version && -n $icon ]] || die "FyneApp.toml lacks Name, ID, Version or Icon in [Details]"

# What is missing is said before any slow step.
case $os in
  linux | windows) ;;
  android)
    ndk=${ANDROID_NDK_HOME:-}
    if [[ -z $ndk && -n ${ANDROID_HOME:-} ]]; then ndk=$ANDROID_HOME/ndk-bundle; fi
    if [[ -z $ndk ]]; then
      die "the Android NDK is missing: set ANDROID_NDK_HOME to an installed NDK (r23 or later; or ANDROID_HOME with ndk-bundle inside) — $readme"
    fi
    [[ -d $ndk ]] || die "the Android NDK is missing: $ndk does not exist (ANDROID_NDK_HOME, or ANDROID_HOME/ndk-bundle) — $readme"
    [[ -d $ndk/toolchains/llvm/prebuilt ]] || die "ANDROID_NDK_HOME=$ndk is not an NDK (no toolchains/llvm/prebuilt) — $readme"
    ;;
  ios)
    [[ $(uname -s) == Darwin ]] || die "iOS packages need macOS with Xcode; this is $(uname -s) — $readme"
    xcrun xcodebuild -version >/dev/null 2>&1 || die "Xcode is missing (xcrun xcodebuild failed): install Xcode and run 'xcode-select --install' — $readme"
    ;;
  *) die "unknown target $os (linux, windows, android or ios)" ;;
esac
[[ -z $check_only ]] || exit 0
if [[ ! -x $fyne ]] && ! command -v dpkg-query >/dev/null; then
  # Not Debian (a Mac building for iOS): only the CLI, pinned in deps.sh.
  v=$(sed -n -E 's/^FYNE_CLI_VERSION=([^ ]+).*/\1/p' "$top/scripts/deps.sh")
  echo "package.sh: installing the fyne CLI $v"
  go install "fyne.io/fyne/v2/cmd/fyne@$v"
fi
[[ -x $fyne ]] || die "the fyne CLI is missing: run scripts/deps.sh package"
if [[ $os == windows ]]; then
  command -v x86_64-w64-mingw32-gcc >/dev/null || die "mingw-w64 is missing: run scripts/deps.sh windows"
fi

# A copy of the working tree (tracked and new files, not ignored ones), or
# of a commit when PACKAGE_REF is set (e.g. PACKAGE_REF=HEAD).
rm -rf "$stage"
mkdir -p "$stage" "$out"
if [[ -n ${PACKAGE_REF:-} ]]; then
  git -C "$top" archive --format=tar "$PACKAGE_REF" | tar -xf - -C "$stage"
elif git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$top" && git ls-files -z -c -o --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$stage"
else
  (cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) | tar -xf - -C "$stage"
fi

# The fyne CLI v2.7.1 says on every run that it moved to fyne.io/tools
# (which the module proxy here does not serve): drop those lines.
quiet() { grep -v -e 'This tool is deprecated' -e 'The new tool can be installed' -e 'go install fyne.io/tools'; }

cd "$stage"
start=$SECONDS
case $os in
  linux)
    "$fyne" package -os linux -release 2>&1 | quiet || true
    [[ -f $name.tar.xz ]] || die "fyne package made no $name.tar.xz"
    artifact=$out/$name-$version-linux-$(go env GOARCH).tar.xz
    mv "$name.tar.xz" "$artifact"
    ;;
  windows)
    export GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
    "$fyne" package -os windows -release -appID "$id" 2>&1 | quiet || true
    [[ -f $name.exe ]] || die "fyne package made no $name.exe"
    artifact=$out/$name-$version-windows-amd64.exe
    mv "$name.exe" "$artifact"
    ;;
  android)
    "$fyne" package -os android -appID "$id" -icon "$icon"
    artifact=$out/$name-$version.apk
    mv "$name.apk" "$artifact"
    ;;
  ios)
    "$fyne" package -os ios -appID "$id" -icon "$icon"
    artifact=$out/$name.app
    rm -rf "$artifact"
    mv "$name.app" "$artifact"
    ;;
esac
echo "package.sh: $artifact ($((SECONDS - start)) s)"
"$top/scripts/package-check.sh" "$os" "$artifact"

#!/usr/bin/env bash
# Checks a package made by scripts/package.sh against FyneApp.toml.
# Usage: scripts/package-check.sh linux|windows|android|ios FILE
#   linux    the .tar.xz holds the binary, a .desktop file (Name, Exec, Icon
#            pointing at what is packed) and a PNG icon; the packed binary's
#            --version says FyneApp.toml's name, version and build
#   windows  a PE GUI executable for amd64 with an icon, a manifest and a
#            VS_VERSION_INFO resource carrying the name and version
#   android  an APK (zip) with AndroidManifest.xml and the app's native library
#   ios      an .app folder with Info.plist and the binary
set -euo pipefail

os=${1:?usage: scripts/package-check.sh OS FILE}
file=${2:?usage: scripts/package-check.sh OS FILE}
top=$(cd "$(dirname "$0")/.." && pwd)
fails=0
ok() { echo "  ok: $*"; }
bad() { echo "  FAIL: $*" >&2; fails=$((fails + 1)); }
detail() {
  sed -n '/^\[Details\]/,/^\[/p' "$top/FyneApp.toml" | sed -n -E "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"?([^\"]*)\"?[[:space:]]*$/\1/p" | head -1
}
name=$(detail Name)
version=$(detail Version)
build=$(detail Build)
[[ -e $file ]] || { echo "package-check.sh: no $file" >&2; exit 1; }
echo "package-check.sh: $file"

case $os in
  linux)
    list=$(tar -tJf "$file")
    bin=$(grep -E '/bin/[^/]+$' <<<"$list" | head -1 || true)
    desktop=$(grep -E '/share/applications/[^/]+\.desktop$' <<<"$list" | head -1 || true)
    pixmap=$(grep -E '/share/pixmaps/[^/]+\.png$' <<<"$list" | head -1 || true)
    [[ -n $bin ]] && ok "binary $bin" || bad "no binary under bin/"
    [[ -n $desktop ]] && ok "desktop file $desktop" || bad "no .desktop file under share/applications/"
    [[ -n $pixmap ]] && ok "icon $pixmap" || bad "no PNG icon under share/pixmaps/"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    tar -xJf "$file" -C "$tmp"
    if [[ -n $desktop ]]; then
      d=$tmp/$desktop
      want_exec=$(basename "$bin")
      want_icon=$(basename "$pixmap")
      for kv in "Type=Application" "Name=$name" "Exec=$want_exec" "Icon=${want_icon%.png}"; do
        k=${kv%%=*} v=${kv#*=}
        got=$(sed -n -E "s/^$k=//p" "$d" | head -1)
        # Exec may carry %U-style arguments; Icon may or may not name the extension.
        if [[ $got == "$v" || $got == "$v "* || ($k == Icon && $got == "$want_icon") ]]; then ok "$k=$got"; else bad "$k=$got, want $v"; fi
      done
      grep -q '^\[Desktop Entry\]' "$d" && ok "[Desktop Entry]" || bad "no [Desktop Entry] header"
    fi
    if [[ -n $pixmap ]]; then
      if [[ $(head -c 8 "$tmp/$pixmap" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then ok "icon is a PNG"; else bad "icon is not a PNG"; fi
    fi
    if [[ -n $bin ]]; then
      [[ -x $tmp/$bin ]] && ok "binary is executable" || bad "binary is not executable"
      want="$name $version (build $build)"
      got=$("$tmp/$bin" --version 2>/dev/null || true)
      [[ $got == "$want" ]] && ok "--version: $got" || bad "--version printed '$got', want '$want'"
    fi
    ;;
  windows)
    [[ $(head -c 2 "$file") == MZ ]] && ok "PE executable (MZ)" || bad "not a PE executable"
    objdump=$(command -v x86_64-w64-mingw32-objdump || true)
    if [[ -n $objdump ]]; then
      hdr=$("$objdump" -p "$file")
      grep -q 'pei-x86-64' <<<"$hdr" && ok "format pei-x86-64" || bad "not pei-x86-64"
      grep -qE 'Subsystem[[:space:]]+0*2[[:space:]]' <<<"$hdr" && ok "GUI subsystem (no console window)" || bad "not a GUI-subsystem executable"
      # The resource directory's top level lists the types by number.
      types=$(sed -n '/The .rsrc Resource Directory section/,$p' <<<"$hdr" | sed -n -E 's/^[0-9a-f]+   Entry: ID: 0x0*([0-9a-f]+),.*/\1/p')
      for t in 3:ICON e:GROUP_ICON 10:VERSION 18:MANIFEST; do
        grep -qx "${t%%:*}" <<<"$types" && ok "resource RT_${t#*:}" || bad "no RT_${t#*:} resource"
      done
    else
      bad "x86_64-w64-mingw32-objdump missing (scripts/deps.sh windows)"
    fi
    # Resource strings are UTF-16LE; look for them in the .rsrc section only.
    rsrc=$(mktemp)
    trap 'rm -f "$rsrc"' EXIT
    x86_64-w64-mingw32-objcopy -O binary --only-section=.rsrc "$file" "$rsrc" 2>/dev/null || cp "$file" "$rsrc"
    u16() { printf '%s' "$1" | sed -e 's/./&\\x00/g' -e 's/^[.]/\\./' -e 's/00[.]/00\\./g'; }
    has() { LC_ALL=C grep -qaP "$(u16 "$1")" "$rsrc"; }
    for s in VS_VERSION_INFO ProductVersion "$version.$build" FileDescription "$name" ProductName; do
      has "$s" && ok "version resource has \"$s\"" || bad "version resource lacks \"$s\""
    done
    # The fixed file version is 1.0.0.1 as four 16-bit words: minor, major, build, patch.
    IFS=. read -r ma mi pa <<<"$version"
    fixed=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x' \
      $((mi & 255)) $((mi >> 8)) $((ma & 255)) $((ma >> 8)) $((build & 255)) $((build >> 8)) $((${pa:-0} & 255)) $((${pa:-0} >> 8)))
    LC_ALL=C grep -qaP '\xbd\x04\xef\xfe\x00\x00\x01\x00'"$fixed" "$rsrc" && ok "VS_FIXEDFILEINFO file version $version.$build" || bad "VS_FIXEDFILEINFO file version is not $version.$build"
    ;;
  android)
    command -v unzip >/dev/null || { echo "package-check.sh: unzip missing" >&2; exit 1; }
    list=$(unzip -Z1 "$file")
    grep -qx AndroidManifest.xml <<<"$list" && ok AndroidManifest.xml || bad "no AndroidManifest.xml"
    grep -qE '^lib/[^/]+/lib[^/]+\.so$' <<<"$list" && ok "native library" || bad "no lib/*/lib*.so"
    ;;
  ios)
    [[ -f $file/Info.plist ]] && ok Info.plist || bad "no Info.plist"
    ;;
  *) echo "package-check.sh: unknown target $os" >&2; exit 2 ;;
esac

if ((fails)); then
  echo "package-check.sh: $fails check(s) failed for $file" >&2
  exit 1
fi
echo "package-check.sh: $file is good"

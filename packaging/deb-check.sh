#!/usr/bin/env bash
# Builds the Debian package, installs it, and checks that the installed program works without
# the checkout: `touchup --version` and `touchup check-text` on the bundled demo photo run from a
# scratch folder while an empty tmpfs hides the checkout (the binary's last-resort model folder)
# in a private mount namespace. A copy of the binary away from /usr, with no data folder, must
# fail and name every folder it searched. Then desktop-file-validate and appstreamcli validate
# the installed files, and the package is removed again (also when a step fails).
#
# Needs root (dpkg -i, unshare -m). Installs what is missing: cargo-deb from crates.io,
# desktop-file-utils and appstream from Debian.
#
#   packaging/deb-check.sh            # builds with the release profile (cargo-deb strips it)
#   DEB_PROFILE=dist packaging/deb-check.sh   # fat LTO (Cargo.toml [profile.dist])
#   DEB_FILE=target/debian/touchup_0.1.0-1_amd64.deb packaging/deb-check.sh   # no build
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
profile=${DEB_PROFILE:-release}

step() { printf '\n== %s\n' "$*"; }
fail() {
    printf 'deb-check: FAILED: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root (dpkg -i and unshare -m need it)"
if dpkg-query -W -f='${Status}' touchup 2>/dev/null | grep -q 'ok installed'; then
    fail "a touchup package is already installed; remove it first (dpkg -r touchup)"
fi

step "tools"
missing=()
command -v desktop-file-validate >/dev/null || missing+=(desktop-file-utils)
command -v appstreamcli >/dev/null || missing+=(appstream)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [ -z "${DEB_FILE:-}" ] && ! cargo deb --version >/dev/null 2>&1; then
    cargo install cargo-deb --locked
fi
cargo deb --version 2>/dev/null || true
desktop-file-validate --help >/dev/null && echo "desktop-file-validate: $(dpkg-query -W -f='${Version}' desktop-file-utils)"
appstreamcli --version

if [ -n "${DEB_FILE:-}" ]; then
    deb=$DEB_FILE
else
    step "cargo deb --profile $profile"
    start=$(date +%s)
    rm -f target/debian/touchup_*.deb
    cargo deb --profile "$profile" --output target/debian/
    echo "built in $(($(date +%s) - start)) s"
    deb=$(ls -t target/debian/touchup_*.deb | head -n 1)
fi
[ -f "$deb" ] || fail "no package at $deb"
ls -l "$deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" | awk '{print $6}'

step "dpkg -i"
scratch=$(mktemp -d /tmp/touchup-deb-check.XXXXXX)
cleanup() {
    step "dpkg -r touchup"
    dpkg -r touchup || true
    rm -rf "$scratch"
}
trap cleanup EXIT
if ! dpkg -i "$deb"; then
    # The window's libraries (Depends) may be missing on a bare machine: let apt add them.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --fix-broken --no-install-recommends
fi
for f in /usr/bin/touchup /usr/share/applications/touchup.desktop \
    /usr/share/metainfo/app.touchup.touchup.metainfo.xml \
    /usr/share/icons/hicolor/256x256/apps/touchup.png \
    /usr/share/touchup/models/PP-OCRv6_det_small.onnx \
    /usr/share/touchup/models/PP-OCRv6_rec_small.onnx; do
    [ -f "$f" ] || fail "$f is not installed"
done
ls -l /usr/bin/touchup

step "the installed binary, checkout hidden (unshare -m, empty tmpfs over $repo)"
cp /usr/bin/touchup "$scratch/copied-touchup"
cat >"$scratch/inside.sh" <<EOF
set -euo pipefail
mount -t tmpfs -o size=1m,mode=0755 touchup-hidden "$repo"
cd "$scratch"
echo "\$ ls -A $repo  (hidden checkout)"
ls -A "$repo"
[ -z "\$(ls -A "$repo")" ] || { echo "the checkout is still visible" >&2; exit 1; }
echo "\$ touchup --version"
touchup --version
echo "\$ touchup demo --out demo.png"
touchup demo --out demo.png
echo "\$ touchup check-text --image demo.png --expect 'FRESH BREAD DAILY'"
touchup check-text --image demo.png --expect 'FRESH BREAD DAILY' >check.json
grep -E '"(exact|total|score|summary)"' check.json
grep -q '"exact": 1' check.json || { echo "the installed check-text did not read the sign" >&2; exit 1; }
echo "\$ (a copy away from /usr, no data folders) copied-touchup check-text ..."
if XDG_DATA_DIRS="$scratch/none" ./copied-touchup check-text --image demo.png --expect X 2>missing.txt; then
    echo "the copy found models it should not have" >&2; exit 1
fi
cat missing.txt
grep -q '/usr/share/touchup/models' missing.txt && { echo "/usr/share was searched despite XDG_DATA_DIRS" >&2; exit 1; }
grep -q "$repo/assets/models" missing.txt || { echo "the message does not name the checkout folder" >&2; exit 1; }
grep -q "$scratch/none/touchup/models" missing.txt || { echo "the message does not name XDG_DATA_DIRS" >&2; exit 1; }
EOF
# A clean environment: no TOUCHUP_MODELS, a HOME with no ~/.local/share/touchup.
env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
    unshare --mount --propagation private bash "$scratch/inside.sh"

step "desktop-file-validate /usr/share/applications/touchup.desktop"
desktop-file-validate /usr/share/applications/touchup.desktop
grep -E '^(Exec|Icon|Categories|MimeType)=' /usr/share/applications/touchup.desktop
echo "ok"

step "appstreamcli validate --no-net /usr/share/metainfo/app.touchup.touchup.metainfo.xml"
appstreamcli validate --no-net /usr/share/metainfo/app.touchup.touchup.metainfo.xml

trap - EXIT
cleanup
[ ! -e /usr/bin/touchup ] || fail "/usr/bin/touchup is still there after dpkg -r"
[ ! -e /usr/share/touchup/models ] || fail "/usr/share/touchup/models is still there after dpkg -r"
printf '\ndeb-check: all passed\n'

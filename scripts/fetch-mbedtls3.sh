#!/usr/bin/env bash
# Fetch mbedTLS 3.6 LTS as Debian 13 (trixie) ships it: the source package `mbedtls`, through
# apt's own source tooling, with a private sources list and private apt state. Nothing under
# /etc/apt, /var/lib/apt or /var/cache/apt is written, and the system's sources are not used
# (only read once, to reuse the Debian mirror this machine's apt is set up with).
#
# Trust: apt checks debian-archive-keyring -> the suite's InRelease signature -> the Sources
# index -> the SHA-256 of the .dsc and of every file it lists; apt refuses anything that does
# not check out (unauthenticated sources are never allowed here). dpkg-source -x checks the
# .dsc checksums again while unpacking, and applies Debian's patches.
#
# Usage: scripts/fetch-mbedtls3.sh [DIR]        DIR default: build/third_party/mbedtls3
#   DIR/source    the unpacked tree (what cmake/MbedTLS3.cmake builds)
#   DIR/VERSION   the Debian version, e.g. 3.6.6-0.1~deb13u1
#   DIR/SOURCE    provenance: suite, mirror, .dsc and tarball SHA-256
# Idempotent: a DIR that already holds a complete source is kept as is (delete DIR to refetch).
# Prints "mbedtls3: Debian trixie mbedtls <version> in <DIR>/source" on success.
# Env: MQTLS_DEBIAN_MIRROR  mirror URI (default: the one the system's apt sources use)
#      MQTLS_MBEDTLS3_SUITE Debian suite (default trixie)
# Needs: apt-get, dpkg-source (dpkg-dev), debian-archive-keyring; run as root or not.
set -euo pipefail

dir=${1:-build/third_party/mbedtls3}
suite=${MQTLS_MBEDTLS3_SUITE:-trixie}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "mbedtls3: $*"; }
die() { echo "mbedtls3: error: $*" >&2; exit 1; }

is_complete() { [ -f "$dir/VERSION" ] && [ -f "$dir/source/include/mbedtls/build_info.h" ]; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# One fetch at a time per DIR (two configures of the same tree).
exec 9>"$dir/.lock"
flock -w 600 9 || die "timed out waiting for another fetch into $dir"

if is_complete; then
    say "Debian $suite mbedtls $(cat "$dir/VERSION") in $dir/source (cached)"
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (a Debian system is needed to fetch)"
command -v dpkg-source >/dev/null ||
    die "dpkg-source not found: install dpkg-dev (scripts/install-deps.sh does)"
[ -r "$keyring" ] || die "$keyring missing: install debian-archive-keyring"

# The Debian archive mirror the system's apt uses (deb822 .sources or one-line .list), unless
# given: URIs serving a plain release suite (not -security/-updates/-backports), preferring
# one whose path ends in /debian over third-party repositories.
system_mirrors() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             {
               uris = ""; suites = ""
               for (i = 1; i <= NF; i++) {
                 if ($i ~ /^URIs:/)   { uris = $i;   sub(/^URIs:[ \t]*/, "", uris) }
                 if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
               }
               n = split(suites, s, /[ \t]+/)
               for (j = 1; j <= n; j++)
                 if (s[j] != "" && s[j] !~ /-/) { split(uris, u, /[ \t]+/); print u[1]; exit }
             }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 !~ /-/ { print $2; exit }'
    done
}
pick_mirror() {
    local all
    all=$(system_mirrors | grep -E '^(https?|file):' || true)
    grep -m1 -E '/debian/?$' <<<"$all" || head -n 1 <<<"$all"
}
mirror=${MQTLS_DEBIAN_MIRROR:-$(pick_mirror)}
[ -n "$mirror" ] || die "no Debian mirror in the system's apt sources; set MQTLS_DEBIAN_MIRROR"
mirror=${mirror%/}

# Private apt: its own sources list, lists, cache; the system's only for reading config.
work="$dir/apt"
rm -rf "$work" "$dir/source" "$dir/VERSION" "$dir/SOURCE"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
apt_opts=(
    -o "Dir::Etc::SourceList=$work/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache"
    -o Acquire::Retries=3
    -o APT::Get::AllowUnauthenticated=false
    -o Acquire::AllowInsecureRepositories=false
)
# As root, apt drops to the _apt user to download, who cannot write into a private directory
# owned by root; stay root for these downloads instead (nothing is installed).
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

say "updating a private apt index of Debian $suite sources ($work)"
apt-get "${apt_opts[@]}" -q update >"$work/update.log" 2>&1 || {
    cat "$work/update.log" >&2
    die "apt-get update of $suite sources failed"
}
# apt-get update exits 0 when an index failed to download: it only warns.
grep -E '^W:' "$work/update.log" >&2 || true
if grep -qE '^(E|Err):|Some index files failed' "$work/update.log"; then
    cat "$work/update.log" >&2
    die "apt-get update of $suite sources reported errors (see above)"
fi

version=$(apt-cache "${apt_opts[@]}" showsrc --only-source mbedtls |
    awk '/^Version:/ { print $2 }' | sort -V | tail -n 1)
[ -n "$version" ] || die "no mbedtls source package in Debian $suite"
case "$version" in
    3.6.*) ;;
    *) die "Debian $suite has mbedtls $version, not 3.6.x LTS" ;;
esac

say "downloading mbedtls $version (source)"
(cd "$work/dl" && apt-get "${apt_opts[@]}" -q --download-only source "mbedtls=$version") \
    >"$work/source.log" 2>&1 || {
    cat "$work/source.log" >&2
    die "apt-get source mbedtls=$version failed"
}
dsc=$(ls "$work/dl"/mbedtls_*.dsc)

# dpkg-source verifies the checksums listed in the .dsc; the .dsc's own OpenPGP signature is
# the uploader's (debian-keyring, not installed here): apt already checked it via the index.
(cd "$work/dl" && dpkg-source -x "$(basename "$dsc")" unpacked) >"$work/unpack.log" 2>&1 || {
    cat "$work/unpack.log" >&2
    die "dpkg-source -x $(basename "$dsc") failed"
}

upstream=$(sed -nE 's/^#define MBEDTLS_VERSION_STRING +"([0-9.]+)".*/\1/p' \
    "$work/dl/unpacked/include/mbedtls/build_info.h")
case "$upstream" in
    3.6.*) ;;
    *) die "unpacked source says version '$upstream', not 3.6.x" ;;
esac

{
    echo "package: mbedtls $version (Debian $suite, upstream $upstream)"
    echo "mirror: $mirror"
    (cd "$work/dl" && sha256sum -- *.dsc *.tar.*)
} >"$dir/SOURCE"
mv "$work/dl/unpacked" "$dir/source"
cp "$dsc" "$dir/"
rm -rf "$work"             # the index (~25 MB) and tarballs are not needed any more
echo "$version" >"$dir/VERSION" # written last: its presence means "complete"
say "Debian $suite mbedtls $version in $dir/source"

#!/usr/bin/env bash
# Build the Debian packages (debian/) with `dpkg-buildpackage -us -uc` from a copy of the tree
# in OUT (default build-deb): the work tree stays clean and the .debs land in OUT/ (not in the
# tree's parent directory). Then lintian on them: errors fail the build.
#   scripts/build-deb.sh [OUT]
# mbedTLS 3.6's source (cmake/MbedTLS3.cmake) comes from MQTLS_MBEDTLS3_DIR (default
# build/third_party/mbedtls3, what the normal build fetched), filled by scripts/fetch-mbedtls3.sh
# if empty: dpkg-buildpackage itself then needs no network.
# Prints "deb: <files>" and the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
out=${1:-build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
start=$(date +%s)
version=$(sed -n 's/^#define MQTLS_VERSION_STRING "\(.*\)"/\1/p' include/mqtls/version.h)
changelog=$(sed -n '1s/^mqtls (\([^)]*\)).*/\1/p' debian/changelog)
if [ "$version" != "$changelog" ]; then
  echo "deb: include/mqtls/version.h says $version, debian/changelog $changelog" >&2
  exit 1
fi
m3=${MQTLS_MBEDTLS3_DIR:-$src/build/third_party/mbedtls3}
scripts/fetch-mbedtls3.sh "$m3" >/dev/null
m3=$(cd "$m3" && pwd)

tree=$out/src/mqtls-$version
rm -rf "$out/src" "$out"/mqtls_* "$out"/libmqtls*
mkdir -p "$tree"
# every file git knows or would add (committed or not), none of the build directories
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t "$tree"
(cd "$tree" && MQTLS_MBEDTLS3_DIR=$m3 DEB_BUILD_OPTIONS="parallel=${JOBS:-2}" \
  dpkg-buildpackage -us -uc >"$out/dpkg-buildpackage.log" 2>&1) ||
  { tail -40 "$out/dpkg-buildpackage.log"; exit 1; }
find "$out/src" -maxdepth 1 -type f -exec mv -t "$out" {} +
echo "deb: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"
if command -v lintian >/dev/null; then
  lintian --fail-on error --suppress-tags-from-file /dev/null "$out"/*.changes >"$out/lintian.log" 2>&1 || {
    cat "$out/lintian.log"; echo "deb: lintian found errors" >&2; exit 1; }
  echo "deb: lintian: $(grep -c '^E:' "$out/lintian.log") errors, $(grep -c '^W:' "$out/lintian.log") warnings (build-deb/lintian.log)"
fi
echo "deb: built in $(( $(date +%s) - start )) s"

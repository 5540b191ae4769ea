#!/usr/bin/env bash
# Builds build/package/vault-sidecar_<version>-1_amd64.deb from the release preset.
#
# Why dpkg-deb over a staged tree, not CPack's DEB generator: the package needs Debian's own
# answers — Depends from dpkg-shlibdeps, the control file from dpkg-gencontrol, maintainer scripts
# as debhelper writes them, a conffile, a stripped binary, gzipped man page and changelog with
# fixed timestamps — and CPack would either leave those out or compute its own versions of them.
# The staged tree is small and explicit, so what lintian checks is exactly what is listed here.
#
# The version is the project's (CMakeLists.txt `project(VERSION ...)`, the input of
# sidecar/core/version.hpp.in), read back from the built binary's --version.
#
# Usage: scripts/package.sh            build the release binary, then the package
# Prints the path of the .deb on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD

export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target vault-sidecar >/dev/null

binary=build/release/src/vault-sidecar
version=$("$binary" --version | awk '{print $2}')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "package.sh: unexpected version '$version'" >&2; exit 1; }
deb_version=$version-1
# Timestamps in the package (changelog date, gzip headers, file mtimes) come from the last
# commit, so the same commit gives the same package.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

out=build/package
work=$out/work
# debian/<package>: where dpkg-shlibdeps expects a package's staged files.
stage=$work/debian/vault-sidecar
rm -rf "$work"
mkdir -p "$stage/DEBIAN" "$out"

install -D -m 0755 "$binary" "$stage/usr/bin/vault-sidecar"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/vault-sidecar"
# One unit: the repository's systemd/vault-sidecar.service is the packaged file as it is.
install -D -m 0644 systemd/vault-sidecar.service "$stage/lib/systemd/system/vault-sidecar.service"
# The documented example, every key with its default; [vault] address and [auth] are the
# administrator's to set. It holds no secret; the secret_id put next to it is mode 0600.
install -d -m 0755 "$stage/etc/vault-sidecar"
install -m 0644 config/vault-sidecar.ini "$stage/etc/vault-sidecar/vault-sidecar.ini"
install -D -m 0644 man/vault-sidecar.8 "$stage/usr/share/man/man8/vault-sidecar.8"
gzip -9n "$stage/usr/share/man/man8/vault-sidecar.8"
doc=$stage/usr/share/doc/vault-sidecar
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
# The one override, justified in the file itself.
install -D -m 0644 packaging/deb/lintian-overrides "$stage/usr/share/lintian/overrides/vault-sidecar"
install -m 0644 README.md "$doc/README.md"
sed -e "s/@VERSION@/$version/g" \
    -e "s/@DATE@/$(date -u -R -d "@$SOURCE_DATE_EPOCH")/" \
    packaging/deb/changelog.in >"$work/debian/changelog"
install -m 0644 "$work/debian/changelog" "$doc/changelog.Debian"
gzip -9n "$doc/changelog.Debian"

install -m 0644 packaging/deb/conffiles "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$stage/DEBIAN/$script"
done

# dpkg-shlibdeps and dpkg-gencontrol work on a source-package layout: debian/control and
# debian/changelog beside the staged tree (debian/vault-sidecar). Depends is only what
# dpkg-shlibdeps finds in the binary (no debhelper, so no ${misc:Depends}).
cp packaging/deb/control "$work/debian/control"
(
  cd "$work"
  dpkg-shlibdeps -Tdebian/substvars -e debian/vault-sidecar/usr/bin/vault-sidecar
  dpkg-gencontrol -pvault-sidecar -cdebian/control -ldebian/changelog -Tdebian/substvars \
    -Pdebian/vault-sidecar
)
(cd "$stage" && find . -type f -not -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums"
find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

deb=$out/vault-sidecar_${deb_version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$root_dir/$deb"

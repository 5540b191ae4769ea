#!/usr/bin/env bash
# Tests of the Debian package (issue 22), run by scripts/test.sh after the release build:
# builds it with scripts/package.sh, then checks it the way an administrator and lintian would.
# Each check prints "ok - ..." or "not ok - ..."; the script exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

failures=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1"; failures=$((failures + 1)); }
check() {  # check "what" command...: passes when the command succeeds (its output: commands.log)
  local what=$1
  shift
  if "$@" >>"$work/commands.log" 2>&1; then pass "$what"; else fail "$what"; fi
}

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

deb=$(scripts/package.sh 2>"$work/package.log" | tail -n 1)
if [ ! -f "$deb" ]; then
  cat "$work/package.log" >&2
  fail "scripts/package.sh builds the package"
  exit 1
fi
pass "scripts/package.sh builds $(basename "$deb")"
version=$(build/release/src/vault-sidecar --version | awk '{print $2}')
[ "$(basename "$deb")" = "vault-sidecar_${version}-1_amd64.deb" ] &&
  pass "the file name carries the project version ($version-1)" ||
  fail "the file name carries the project version ($version-1)"

# --- lintian: no error and no warning (overrides are justified in packaging/deb) -------------
lintian --pedantic --info "$deb" >"$work/lintian.txt" 2>&1
if grep -E '^[EW]: ' "$work/lintian.txt" >/dev/null; then
  cat "$work/lintian.txt"
  fail "lintian reports no E: and no W:"
else
  pass "lintian reports no E: and no W: ($(grep -c '^[IPX]: ' "$work/lintian.txt") info/pedantic notes)"
fi

# --- contents and modes --------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $1, $2, $6}' | sort >"$work/files.txt"
cat >"$work/expected.txt" <<'EOF'
-rw-r--r-- root/root ./etc/vault-sidecar/vault-sidecar.ini
-rw-r--r-- root/root ./lib/systemd/system/vault-sidecar.service
-rw-r--r-- root/root ./usr/share/doc/vault-sidecar/README.md
-rw-r--r-- root/root ./usr/share/doc/vault-sidecar/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/vault-sidecar/copyright
-rw-r--r-- root/root ./usr/share/lintian/overrides/vault-sidecar
-rw-r--r-- root/root ./usr/share/man/man8/vault-sidecar.8.gz
-rwxr-xr-x root/root ./usr/bin/vault-sidecar
EOF
sort -o "$work/expected.txt" "$work/expected.txt"
if diff -u "$work/expected.txt" "$work/files.txt"; then
  pass "the package holds exactly the expected files, with their modes and owners"
else
  fail "the package holds exactly the expected files, with their modes and owners"
fi
# No development files (the library stays `cmake --install --component library`).
dpkg-deb -c "$deb" | grep -E '\.(hpp|h|a|so|pc|cmake)$' >/dev/null &&
  fail "no development files" || pass "no development files"

dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles" 2>/dev/null
[ "$(cat "$work/conffiles")" = "/etc/vault-sidecar/vault-sidecar.ini" ] &&
  pass "conffiles is /etc/vault-sidecar/vault-sidecar.ini" ||
  fail "conffiles is /etc/vault-sidecar/vault-sidecar.ini (got: $(cat "$work/conffiles"))"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Section)" = admin ] && [ "$(field Priority)" = optional ] &&
  [ "$(field Recommends)" = systemd ] && [ -n "$(field Maintainer)" ] && [ -z "$(field Homepage)" ] &&
  pass "Section admin, Priority optional, Recommends systemd, a Maintainer, no Homepage" ||
  fail "Section admin, Priority optional, Recommends systemd, a Maintainer, no Homepage"

# --- Depends: exactly the packages that own the libraries the binary really links ------------
dpkg-deb -x "$deb" "$work/root"
binary=$work/root/usr/bin/vault-sidecar
needed_packages=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
  while read -r lib; do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    [ -n "$path" ] || path=$(readlink -f "/lib64/$lib" 2>/dev/null || true)
    # dpkg knows a library by the path it shipped it under (/lib/... on a merged-/usr system).
    { dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null; } |
      head -n 1 | cut -d: -f1
  done | sort -u | tr '\n' ' ')
depends_packages=$(field Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' | sed '/^$/d' | sort -u |
  tr '\n' ' ')
[ -n "$needed_packages" ] && [ "$needed_packages" = "$depends_packages" ] &&
  pass "Depends ($depends_packages) = the owners of the binary's NEEDED libraries" ||
  fail "Depends ($depends_packages) = the owners of the binary's NEEDED libraries ($needed_packages)"

# --- the packaged binary, config and unit ----------------------------------------------------
[ "$("$binary" --version)" = "vault-sidecar $version" ] &&
  pass "the packaged binary answers --version with $version" ||
  fail "the packaged binary answers --version with $version"
check "check --config passes on the packaged config" \
  "$binary" check --config "$work/root/etc/vault-sidecar/vault-sidecar.ini"
cmp -s "$work/root/lib/systemd/system/vault-sidecar.service" systemd/vault-sidecar.service &&
  pass "the packaged unit is systemd/vault-sidecar.service, byte for byte" ||
  fail "the packaged unit is systemd/vault-sidecar.service, byte for byte"
unit=$work/root/lib/systemd/system/vault-sidecar.service
grep -q '^ExecStart=/usr/bin/vault-sidecar ' "$unit" &&
  pass "the unit starts /usr/bin/vault-sidecar" || fail "the unit starts /usr/bin/vault-sidecar"
# verify needs ExecStart's binary to exist: a copy names the extracted one, all else unchanged.
mkdir -p "$work/unit"
sed "s#^ExecStart=/usr/bin/vault-sidecar #ExecStart=$binary #" "$unit" >"$work/unit/vault-sidecar.service"
if out=$(systemd-analyze verify "$work/unit/vault-sidecar.service" 2>&1) &&
  ! grep -q vault-sidecar.service <<<"$out"; then
  pass "systemd-analyze verify passes on the packaged unit"
else
  echo "$out"
  fail "systemd-analyze verify passes on the packaged unit"
fi

# --- the manual page ---------------------------------------------------------------------------
zcat "$work/root/usr/share/man/man8/vault-sidecar.8.gz" >"$work/vault-sidecar.8"
groff -man -Tutf8 -ww -z "$work/vault-sidecar.8" 2>"$work/groff.txt"
[ ! -s "$work/groff.txt" ] && pass "the man page renders with groff -ww without a warning" ||
  { cat "$work/groff.txt"; fail "the man page renders with groff -ww without a warning"; }
MANWIDTH=100 man --warnings -l "$work/vault-sidecar.8" >"$work/man.txt" 2>"$work/man-warnings.txt"
[ ! -s "$work/man-warnings.txt" ] && [ -s "$work/man.txt" ] &&
  pass "man -l renders it without a warning" ||
  { cat "$work/man-warnings.txt"; fail "man -l renders it without a warning"; }
# Every subcommand and exit code that --help lists is in the manual, so a new one without
# documentation fails here.
"$binary" --help >"$work/help.txt" 2>&1
subcommands=$(grep -oE 'vault-sidecar [a-z][a-z-]+' "$work/help.txt" | awk '{print $2}' | sort -u)
exit_codes=$(sed -n '/Exit codes/,$p' "$work/help.txt" | grep -oE '\b[0-9]{1,3}\b' | sort -un)
[ -n "$subcommands" ] && [ -n "$exit_codes" ] ||
  fail "--help lists subcommands and exit codes to compare (got: $subcommands / $exit_codes)"
sed -n '/^EXIT STATUS/,/^[A-Z]/p' "$work/man.txt" >"$work/man-exit.txt"
for sub in $subcommands; do
  grep -qE "vault-sidecar $sub\b" "$work/man.txt" && pass "the manual documents '$sub'" ||
    fail "the manual documents '$sub' (listed by --help)"
done
for code in $exit_codes; do
  grep -qE "^ {7}$code\b" "$work/man-exit.txt" && pass "the manual's EXIT STATUS has $code" ||
    fail "the manual's EXIT STATUS has $code (listed by --help)"
done

# --- a real installation, upgrade, removal and purge ------------------------------------------
# Only on a machine without the package (CI's); an administrator's installation is left alone.
if dpkg-query -W -f='${Status}' vault-sidecar 2>/dev/null | grep -q installed; then
  echo "skip - install/upgrade/remove/purge: vault-sidecar is installed on this machine"
else
  trap 'dpkg -P vault-sidecar >/dev/null 2>&1; cleanup' EXIT
  wanted=/etc/systemd/system/multi-user.target.wants/vault-sidecar.service
  check "dpkg -i installs it" dpkg -i "$deb"
  check "the unit is enabled on first installation" test -L "$wanted"
  check "/usr/bin/vault-sidecar --version runs" /usr/bin/vault-sidecar --version
  check "man finds the installed page" man -w vault-sidecar
  echo "; the administrator's edit" >>/etc/vault-sidecar/vault-sidecar.ini
  echo "secret" >/etc/vault-sidecar/secret_id
  echo "role" >/etc/vault-sidecar/role_id
  check "an upgrade (the same package again) succeeds" \
    env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$deb"
  check "an upgrade keeps the edited conffile" \
    grep -q "the administrator's edit" /etc/vault-sidecar/vault-sidecar.ini
  check "dpkg -r removes it" dpkg -r vault-sidecar
  check "removal leaves /etc/vault-sidecar as it was" \
    grep -q "the administrator's edit" /etc/vault-sidecar/vault-sidecar.ini
  check "removal leaves the secret_id" test -f /etc/vault-sidecar/secret_id
  check "removal takes the binary" test ! -e /usr/bin/vault-sidecar
  check "dpkg -P purges it" dpkg -P vault-sidecar
  check "purge removes /etc/vault-sidecar with the credentials" test ! -e /etc/vault-sidecar
  # A file of the administrator's own (a CA bundle, say) survives a purge, and so its directory.
  check "a reinstallation after purge succeeds" dpkg -i "$deb"
  echo "ca" >/etc/vault-sidecar/vault-ca.pem
  check "a second purge succeeds" dpkg -P vault-sidecar
  check "purge keeps a file it does not know" test -f /etc/vault-sidecar/vault-ca.pem
  rm -rf /etc/vault-sidecar
  check "purge removes the enablement" test ! -L "$wanted"
fi

if [ "$failures" -ne 0 ]; then
  cat "$work/commands.log" 2>/dev/null
  echo "test_package: $failures check(s) failed"
  exit 1
fi
echo "test_package: all checks passed"

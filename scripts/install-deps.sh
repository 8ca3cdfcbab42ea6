#!/usr/bin/env bash
# Installs the FTP daemons and tools the integration tests run against.
#
# - vsftpd and the client/network tools come from apt as normal packages.
# - pyftpdlib (+ python3-openssl for its TLS_FTPHandler) and Twisted are ordinary packages for
#   Debian's /usr/bin/python3 (the harness always runs that interpreter, not a pyenv/venv one).
# - proftpd, pure-ftpd, GNU inetutils ftpd and netkit ftpd (ftpd-ssl, what the `ftpd` package
#   pulls in) conflict with vsftpd (all Provide/Conflict ftp-server) and with each other as Debian
#   packages, so they are fetched with `apt-get download` and unpacked with `dpkg -x` into
#   <repo>/.deps/root, where test/harness/env.ts looks for them (override with FTP_DOCTOR_DEPS_DIR).
#   Installing inetutils-ftpd or ftpd-ssl would also remove vsftpd and pull in a syslogd or inetd.
#
# Idempotent: a second run only checks. Needs root (apt-get install).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS_DIR="${FTP_DOCTOR_DEPS_DIR:-$REPO_ROOT/.deps/root}"
DEBS_DIR="$(dirname "$DEPS_DIR")/debs"

die() { echo "install-deps: ERROR: $*" >&2; exit 1; }
log() { echo "install-deps: $*" >&2; }

if [[ "$(id -u)" -ne 0 ]]; then
  die "must run as root (apt-get install, and the tests create users, namespaces and iptables rules)"
fi
export DEBIAN_FRONTEND=noninteractive

APT_PACKAGES=(
  vsftpd iptables iproute2 lftp curl openssl procps
  # promtool, the Prometheus server and Alertmanager (deploy/prometheus tests, test/integrations)
  prometheus prometheus-alertmanager
  # unshare/mount (pure-ftpd anonymous root), useradd/chpasswd (vsftpd PAM user), PAM modules
  util-linux mount passwd libpam-modules libpam-runtime
  # runtime libraries of the unpacked proftpd / pure-ftpd binaries (their Depends:)
  libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libsodium23 libcap2 libidn2-0
  libssl3 libpam0g libacl1 libncursesw6 zlib1g
  db-util
  # pyftpdlib and Twisted FTP servers (test/harness/pyftpdlib.ts, test/harness/twisted.ts)
  python3 python3-pyftpdlib python3-openssl python3-twisted
  # runtime libraries of the unpacked inetutils ftpd / netkit in.ftpd (their Depends:)
  libwrap0 libcrypt1
)
DOWNLOAD_PACKAGES=(proftpd-core proftpd-basic proftpd-mod-crypto pure-ftpd pure-ftpd-common inetutils-ftpd ftpd-ssl)

# apt-get update once: when the package lists are missing, or a package cannot be found.
APT_UPDATED=0
apt_update_once() {
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  apt_update_once
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "apt-get install ${missing[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    apt_update_once
    apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      || die "apt-get install failed for: ${missing[*]}"
  fi
else
  log "apt packages already installed"
fi

mkdir -p "$DEBS_DIR" "$DEPS_DIR"
# True when every regular file of the .deb is present under DEPS_DIR.
unpacked_complete() {
  local deb="$1" path
  while read -r path; do
    [[ -e "$DEPS_DIR/$path" ]] || return 1
  done < <(dpkg-deb --fsys-tarfile "$deb" | tar -t --wildcards '*' 2>/dev/null | grep -v '/$' | sed 's#^\./##')
  return 0
}

for p in "${DOWNLOAD_PACKAGES[@]}"; do
  deb="$(compgen -G "$DEBS_DIR/${p}_*.deb" | head -n1 || true)"
  if [[ -z "$deb" ]]; then
    log "apt-get download $p"
    if ! (cd "$DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User=root "$p"); then
      apt_update_once
      (cd "$DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User=root "$p") || die "apt-get download $p failed"
    fi
    deb="$(compgen -G "$DEBS_DIR/${p}_*.deb" | head -n1 || true)"
    [[ -n "$deb" ]] || die "apt-get download $p produced no .deb in $DEBS_DIR"
  fi
  if unpacked_complete "$deb"; then
    continue
  fi
  log "dpkg -x $(basename "$deb")"
  dpkg -x "$deb" "$DEPS_DIR" || die "dpkg -x $deb failed"
done

# Verify every binary runs (loader errors such as a missing .so show up here, not in the tests).
failed=()
check() {
  local name="$1"; shift
  local out
  if ! out="$("$@" 2>&1)"; then
    echo "install-deps: $name does not run: $* -> $out" >&2
    failed+=("$name")
    return
  fi
  if [[ "$out" == *"error while loading shared libraries"* || -z "$out" ]]; then
    echo "install-deps: $name: unexpected output: '$out'" >&2
    failed+=("$name")
    return
  fi
  log "ok: $name ($(printf '%s' "$out" | grep -m1 . || true))"
}
# vsftpd -v writes its version to fd 0 (stdin), not stdout: point fd 0 at the pipe.
check vsftpd bash -c 'vsftpd -v 0>&1'
check proftpd "$DEPS_DIR/usr/sbin/proftpd" -v
check pure-ftpd "$DEPS_DIR/usr/sbin/pure-ftpd" --help
check pure-pw "$DEPS_DIR/usr/bin/pure-pw" --help
check inetutils-ftpd "$DEPS_DIR/usr/sbin/ftpd" --version
# in.ftpd has no version flag: -V is refused ("invalid option", exit 1) once the binary loads; a
# loader error ("error while loading shared libraries") is still caught by check().
check netkit-ftpd bash -c '"$0" -V 2>&1 </dev/null; true' "$DEPS_DIR/usr/sbin/in.ftpd"
check pyftpdlib /usr/bin/python3 -c 'import pyftpdlib, OpenSSL; from pyftpdlib.handlers import TLS_FTPHandler; print("pyftpdlib", pyftpdlib.__ver__)'
check twisted /usr/bin/python3 -c 'import twisted; from twisted.protocols import ftp; print("twisted", twisted.__version__)'
for so in mod_tls.so; do
  [[ -f "$DEPS_DIR/usr/lib/proftpd/$so" ]] || { echo "install-deps: missing $DEPS_DIR/usr/lib/proftpd/$so" >&2; failed+=("proftpd:$so"); }
done
if ldd "$DEPS_DIR/usr/lib/proftpd/mod_tls.so" 2>/dev/null | grep -q "not found"; then
  echo "install-deps: mod_tls.so has unresolved libraries:" >&2
  ldd "$DEPS_DIR/usr/lib/proftpd/mod_tls.so" | grep "not found" >&2
  failed+=("proftpd:mod_tls.so libs")
fi
for tool in curl lftp openssl ip iptables unshare mount useradd chpasswd getent; do
  command -v "$tool" >/dev/null || failed+=("$tool")
done

# vsftpd anonymous login and pure-ftpd anonymous mode need the `ftp` system user (vsftpd's postinst makes it).
getent passwd ftp >/dev/null || failed+=("system user ftp (reinstall vsftpd: apt-get install --reinstall vsftpd)")
[[ -f /etc/pam.d/vsftpd ]] || failed+=("/etc/pam.d/vsftpd (reinstall vsftpd)")

if [[ ${#failed[@]} -gt 0 ]]; then
  die "missing or broken: ${failed[*]}"
fi
log "all FTP test dependencies present (deps dir: $DEPS_DIR)"

#!/usr/bin/env bash
# Installs the real components the test suite talks to (see test/helpers/real/):
#   - from Debian 12 (the machine's own apt sources): docker-registry, podman, runc, busybox-static,
#     apache2-utils (htpasswd, bcrypt), openssl, util-linux (setpriv), bsdutils (script), uidmap;
#   - from Debian 13 "trixie", without touching the system's apt configuration: cosign 2.5 and
#     skopeo 1.18, downloaded with a private apt configuration under .tools/apt/, unpacked into
#     .tools/trixie/ together with trixie's glibc and the libraries skopeo links, and run through
#     the wrappers .tools/bin/cosign and .tools/bin/skopeo (trixie's own dynamic loader);
#   - from Debian sid, the same way: cosign 3.1 (.tools/bin/cosign3) and kubectl 1.36 (.tools/bin/kubectl).
#
# Idempotent: a second run only checks what is there (about a second). Safe as root in CI (no stdin,
# DEBIAN_FRONTEND=noninteractive, no service is started or enabled). Exits non-zero on real failure.
#
# Environment:
#   COSIGN_TS_TOOLS   where to put the tools (default: <repo>/.tools)
#   FORCE=1           re-download the trixie and sid packages even if they are already unpacked
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${COSIGN_TS_TOOLS:-$ROOT/.tools}"
START=$(date +%s)

log() { printf '[install-deps] %s\n' "$*" >&2; }
die() { printf '[install-deps] ERROR: %s\n' "$*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
export APT_LISTCHANGES_FRONTEND=none
export NEEDRESTART_MODE=a

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n -E)
  fi
fi
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif [ "${#SUDO[@]}" -gt 0 ]; then "${SUDO[@]}" "$@"; else
    die "need root (or passwordless sudo) to run: $*"
  fi
}

case "$(dpkg --print-architecture 2>/dev/null || echo unknown)" in
  amd64) TRIPLET=x86_64-linux-gnu; LDSO=ld-linux-x86-64.so.2 ;;
  arm64) TRIPLET=aarch64-linux-gnu; LDSO=ld-linux-aarch64.so.1 ;;
  *) die "unsupported architecture (need a Debian amd64 or arm64 machine)" ;;
esac

# ---------------------------------------------------------------------------------------------
# 1. Debian 12 packages from the system's own sources.
# ---------------------------------------------------------------------------------------------
# package:binary-that-proves-it-is-there
SYSTEM_PKGS=(
  docker-registry:/usr/bin/docker-registry
  podman:/usr/bin/podman
  runc:/usr/sbin/runc
  conmon:/usr/bin/conmon
  busybox-static:/bin/busybox
  apache2-utils:/usr/bin/htpasswd
  openssl:/usr/bin/openssl
  util-linux:/usr/bin/setpriv
  bsdutils:/usr/bin/script
  uidmap:/usr/bin/newuidmap
  ca-certificates:/etc/ssl/certs
  time:/usr/bin/time
)

missing=()
for entry in "${SYSTEM_PKGS[@]}"; do
  pkg="${entry%%:*}"; probe="${entry#*:}"
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [ "$status" != installed ] || [ ! -e "$probe" ]; then missing+=("$pkg"); fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  # Never let a package start (or restart) a system service: we run our own processes.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    created_policy=1
  fi
  cleanup_policy() { if [ "$created_policy" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  apt_opts=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
            -o Dpkg::Use-Pty=0)
  # The package lists may be missing or stale on a fresh machine: refresh them once, then install.
  as_root apt-get -q -o Dpkg::Use-Pty=0 update >/dev/null || log "apt-get update reported errors (continuing)"
  as_root apt-get install "${apt_opts[@]}" "${missing[@]}" </dev/null >"${TMPDIR:-/tmp}/install-deps-apt.log" 2>&1 || {
    tail -n 40 "${TMPDIR:-/tmp}/install-deps-apt.log" >&2
    die "apt-get install failed (${missing[*]})"
  }
  cleanup_policy; created_policy=0; trap - EXIT
  # docker-registry's package enables a service; if anything started it anyway, stop it (we start
  # our own registries on free ports). Only the daemon of the package's own user is touched.
  if command -v pgrep >/dev/null 2>&1; then
    for pid in $(pgrep -u docker-registry -x docker-registry 2>/dev/null || true); do
      log "stopping docker-registry daemon started by the package (pid $pid)"
      as_root kill "$pid" 2>/dev/null || true
    done
  fi
  # ... and leave it disabled, so it does not start at the next boot either.
  if [ -e /etc/init.d/docker-registry ] && command -v update-rc.d >/dev/null 2>&1; then
    as_root update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null 2>&1; then
    as_root systemctl disable docker-registry.service >/dev/null 2>&1 || true
  fi
fi

for entry in "${SYSTEM_PKGS[@]}"; do
  probe="${entry#*:}"
  [ -e "$probe" ] || die "${entry%%:*} is not installed ($probe missing)"
done

# ---------------------------------------------------------------------------------------------
# 2. cosign 2.5 and skopeo 1.18 from Debian 13 (trixie), unpacked under .tools/.
# ---------------------------------------------------------------------------------------------
TRIXIE_PKGS=(cosign skopeo libc6 libgcc-s1 libgpgme11t64 libassuan9 libgpg-error0 libsqlite3-0)
APTDIR="$TOOLS/apt"
TRIXIE="$TOOLS/trixie"
BIN="$TOOLS/bin"
STAMP="$TRIXIE/.installed"
WANT_STAMP="packages: ${TRIXIE_PKGS[*]}"

tools_ok() {
  [ -f "$STAMP" ] && [ "$(head -n 1 "$STAMP")" = "$WANT_STAMP" ] &&
    "$BIN/cosign" version >/dev/null 2>&1 && "$BIN/skopeo" --version >/dev/null 2>&1
}

# The Debian mirror the machine already uses (deb822 or one-line sources), else the default one.
debian_mirror() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk '
      /^[[:space:]]*$/ { if (ok && u != "") { print u; exit } ok=0; u=""; next }
      /^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { u=$i; break } }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" || $i == "trixie") ok=1 }
      END { if (ok && u != "") print u }' "$f" | head -n 1)"
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /=/ ) { if ($(i+1) == "bookworm" || $(i+1) == "trixie") { print $i; exit } else break } }' "$f" | head -n 1)"
      [ -n "$uri" ] && break
    done
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# Downloads Debian packages of SUITE with a private apt configuration under .tools/apt/SUITE (the
# system's apt configuration and state are not touched) and unpacks them into DEST, with a stamp
# DEST/.installed: the first line STAMP_LINE, then "Package: Version" of every package.
fetch_suite() {
  local suite="$1" dest="$2" stamp_line="$3"; shift 3
  local apt="$APTDIR/$suite" deb
  command -v apt-get >/dev/null || die "apt-get not found"
  [ -n "${MIRROR:-}" ] || MIRROR="$(debian_mirror)"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
  log "fetching $suite packages ($*) from $MIRROR with a private apt configuration"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$apt/debs"
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$MIRROR" "$suite" >"$apt/sources.list"
  : >"$apt/status"
  local opts=(
    -o "Dir::Etc::sourcelist=$apt/sources.list"
    -o "Dir::Etc::sourceparts=$apt/parts"
    -o "Dir::Etc::preferences=$apt/preferences"
    -o "Dir::Etc::preferencesparts=$apt/parts"
    -o "Dir::State=$apt/state"
    -o "Dir::State::status=$apt/status"
    -o "Dir::Cache=$apt/cache"
    -o "APT::Sandbox::User=root"
    -o "Acquire::Languages=none"
    -o "Debug::NoLocking=1"
  )
  apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 || {
    cat "$apt/update.log" >&2; die "apt-get update ($suite, private configuration) failed"
  }
  rm -f "$apt/debs/"*.deb
  (cd "$apt/debs" && apt-get -q "${opts[@]}" download "$@") >"$apt/download.log" 2>&1 || {
    cat "$apt/download.log" >&2; die "apt-get download ($suite) failed"
  }
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  for deb in "$apt/debs/"*.deb; do dpkg-deb -x "$deb" "$dest.new"; done
  {
    echo "$stamp_line"
    for deb in "$apt/debs/"*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
  } >"$dest.new/.installed"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
}

if [ "${FORCE:-0}" != 1 ] && tools_ok; then
  :
else
  fetch_suite trixie "$TRIXIE" "$WANT_STAMP" "${TRIXIE_PKGS[@]}"
  mkdir -p "$BIN"
  for tool in cosign skopeo; do
    cat >"$BIN/$tool" <<EOF
#!/bin/sh
# Runs Debian trixie's $tool with trixie's own dynamic loader and libraries (made by scripts/install-deps.sh).
T="\$(cd "\$(dirname "\$0")/../trixie" && pwd)"
L="\$T/usr/lib/$TRIPLET"
exec "\$L/$LDSO" --library-path "\$L" --argv0 $tool "\$T/usr/bin/$tool" "\$@"
EOF
    chmod 755 "$BIN/$tool"
  done
  tools_ok || die "the trixie cosign/skopeo wrappers do not run (see $BIN)"
fi

# ---------------------------------------------------------------------------------------------
# 2a. cosign 3.1.1 (the cosign v3 peer: Sigstore bundles as OCI referrers) and kubectl 1.36 (builds
#     Kubernetes objects offline) from Debian sid, unpacked into .tools/sid/. Both need only libc
#     (the system's), so .tools/bin/cosign3 and .tools/bin/kubectl simply exec the sid binaries.
# ---------------------------------------------------------------------------------------------
SID_PKGS=(cosign kubectl)
SID="$TOOLS/sid"
SID_STAMP="$SID/.installed"
SID_WANT="packages: ${SID_PKGS[*]}"
sid_ok() {
  [ -f "$SID_STAMP" ] && [ "$(head -n 1 "$SID_STAMP")" = "$SID_WANT" ] &&
    "$BIN/cosign3" version >/dev/null 2>&1 && "$BIN/kubectl" version --client >/dev/null 2>&1
}
if [ "${FORCE:-0}" = 1 ] || ! sid_ok; then
  fetch_suite sid "$SID" "$SID_WANT" "${SID_PKGS[@]}"
  mkdir -p "$BIN"
  for pair in cosign3:cosign kubectl:kubectl; do
    printf '#!/bin/sh\n# Runs Debian sid'"'"'s %s (made by scripts/install-deps.sh).\nexec "$(cd "$(dirname "$0")/../sid" && pwd)/usr/bin/%s" "$@"\n' "${pair#*:}" "${pair#*:}" >"$BIN/${pair%%:*}"
    chmod 755 "$BIN/${pair%%:*}"
  done
  sid_ok || die "the sid cosign3/kubectl wrappers do not run (see $BIN)"
fi

# ---------------------------------------------------------------------------------------------
# 2b. Node.js 22, the second supported runtime (npm test runs on the `node` devDependency's Node 24).
#     The npm registry's `node` package, pinned, in a prefix of its own under .tools/ — not a
#     devDependency, whose `node` bin would shadow Node 24's in node_modules/.bin.
# ---------------------------------------------------------------------------------------------
NODE22_VERSION=22.23.3
NODE22="$TOOLS/node22/node_modules/node/bin/node"
if [ "$("$NODE22" --version 2>/dev/null || true)" != "v$NODE22_VERSION" ]; then
  log "installing Node.js $NODE22_VERSION (npm package node@$NODE22_VERSION) into $TOOLS/node22"
  rm -rf "$TOOLS/node22"
  mkdir -p "$TOOLS/node22"
  printf '{"name":"cosign-ts-node22","private":true,"allowScripts":{"node":true}}\n' >"$TOOLS/node22/package.json"
  (cd "$TOOLS/node22" && npm install --no-audit --no-fund --no-save --no-package-lock "node@$NODE22_VERSION" </dev/null >&2) ||
    die "npm could not install node@$NODE22_VERSION"
  [ "$("$NODE22" --version 2>/dev/null || true)" = "v$NODE22_VERSION" ] || die "Node.js $NODE22_VERSION does not run from $NODE22"
fi

# ---------------------------------------------------------------------------------------------
# 3. Summary.
# ---------------------------------------------------------------------------------------------
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
trixie_ver() { awk -v p="$1" '$1 == "Package:" && $2 == p { print $4 }' "$STAMP"; }
sid_ver() { awk -v p="$1" '$1 == "Package:" && $2 == p { print $4 }' "$SID_STAMP"; }
cosign_v="$(trixie_ver cosign)"; skopeo_v="$(trixie_ver skopeo)"; cosign3_v="$(sid_ver cosign)"; kubectl_v="$(sid_ver kubectl)"
case "$cosign_v" in 2.5.*) ;; *) log "WARNING: expected cosign 2.5.x, got $cosign_v" ;; esac
case "$skopeo_v" in 1.18.*) ;; *) log "WARNING: expected skopeo 1.18.x, got $skopeo_v" ;; esac
case "$cosign3_v" in 3.*) ;; *) log "WARNING: expected cosign 3.x from sid, got $cosign3_v" ;; esac
{
  echo "[install-deps] ready in $(( $(date +%s) - START ))s:"
  echo "  docker-registry $(pkgver docker-registry)  /usr/bin/docker-registry"
  echo "  podman          $(pkgver podman)  /usr/bin/podman (runtime runc $(pkgver runc))"
  echo "  busybox-static  $(pkgver busybox-static)  /bin/busybox"
  echo "  htpasswd        $(pkgver apache2-utils)  /usr/bin/htpasswd"
  echo "  openssl         $(pkgver openssl)  /usr/bin/openssl"
  echo "  script          $(pkgver bsdutils)  /usr/bin/script (pseudo-terminal runs)"
  echo "  setpriv         $(pkgver util-linux)  /usr/bin/setpriv (--pdeathsig for test daemons)"
  echo "  cosign          $cosign_v (trixie)  $BIN/cosign"
  echo "  skopeo          $skopeo_v (trixie)  $BIN/skopeo ($("$BIN/skopeo" --version 2>&1))"
  echo "  cosign 3        $cosign3_v (sid)  $BIN/cosign3"
  echo "  kubectl         $kubectl_v (sid)  $BIN/kubectl"
  echo "  node 22         $("$NODE22" --version)  $NODE22"
}

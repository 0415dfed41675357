#!/usr/bin/env bash
# Installs what mirror needs on a fresh Debian machine that has only Node 20 and npm:
#   - a portable Node 24 (npm package node-linux-<arch>) when the machine's Node is older than 22;
#   - Debian packages (nginx, dnsmasq, openssl, wrk, prometheus) with apt-get when root, without
#     starting their system services (the tests run their own, on free ports);
#   - npm dependencies from the lock file, then the TypeScript build.
# Source it (`. scripts/setup.sh`) to get the right `node` on PATH, or run it.
# Set MIRROR_APT_PACKAGES to change the Debian package list.

mirror_setup() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$root" || return 1

  # 1. Node >= 22 (the AWS SDK, undici and vitest need it; Node 20 is past end of life).
  local major=0 arch
  if command -v node >/dev/null 2>&1; then major="$(node -p 'process.versions.node.split(".")[0]')"; fi
  if [ "$major" -lt 22 ]; then
    arch="$( (command -v node >/dev/null && node -p process.arch) || uname -m)"
    case "$arch" in x64|x86_64) arch=x64 ;; arm64|aarch64) arch=arm64 ;; esac
    local portable="$root/.tools/node24/node_modules/node-linux-$arch/bin"
    if [ ! -x "$portable/node" ]; then
      echo "setup: Node ${major} is older than 22; installing a portable Node 24 (npm package node-linux-$arch) into .tools/" >&2
      npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
        --prefix "$root/.tools/node24" "node-linux-$arch@24" >&2 || return 3
    fi
    export PATH="$portable:$PATH"
  fi

  # 2. Debian packages: the real programs the tests and the demo run.
  # dnsmasq-base: the binary without the system service that would claim port 53.
  # prometheus: the dashboard test runs its own server, on a free port, against verify --watch.
  # libnginx-mod-http-lua: the lint test that checks Lua blocks against the real nginx loads it.
  local packages="${MIRROR_APT_PACKAGES:-nginx-light dnsmasq-base openssl wrk prometheus libnginx-mod-http-lua}" missing="" pkg bin
  for pkg in $packages; do
    case "$pkg" in
      libnginx-mod-http-lua)
        [ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] || missing="$missing $pkg"
        continue ;;
      nginx|nginx-light|nginx-full) bin=nginx ;; dnsmasq|dnsmasq-base) bin=dnsmasq ;; *) bin="$pkg" ;;
    esac
    if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then
      missing="$missing $pkg"
    fi
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing Debian packages:$missing" >&2
      apt-get update -qq >&2 || return 3
      # Keep the packages' services from starting (nginx on :80 fails its install
      # when the port is taken): the standard policy-rc.d switch, removed afterwards.
      local policy=/usr/sbin/policy-rc.d made_policy="" status=0
      if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1; fi
      # shellcheck disable=SC2086
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 || status=3
      [ -n "$made_policy" ] && rm -f "$policy"
      [ "$status" -eq 0 ] || return 3
    else
      echo "setup: missing programs:$missing" >&2
      echo "setup: install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
      return 3
    fi
  fi

  # 3. npm dependencies from the lock file, then the build.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm dependencies from package-lock.json" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2 || return 3
  fi
  node node_modules/typescript/bin/tsc -p tsconfig.build.json >&2 || return 1
  chmod +x dist/cli.js
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  mirror_setup
  exit $?
else
  mirror_setup || return $?
fi

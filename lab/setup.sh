#!/usr/bin/env bash
# Installs what the lab needs on a Debian machine (as root) and builds Vault
# from the Go module proxy once, caching the binary outside the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkgs=(openssh-server openssh-client sudo iproute2 iptables procps psmisc systemd curl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The host must not run its own sshd: each lab node runs one.
systemctl disable --now ssh.service >/dev/null 2>&1 || true

cache="${KMSCTL_LAB_CACHE:-/var/cache/kmsctl-lab}"
vault="$cache/vault-v1.21.1"
if [[ ! -x "$vault" ]]; then
  echo "setup: building Vault v1.21.1 into $vault (about 10 minutes on 2 cores)" >&2
  mkdir -p "$cache"
  (cd "$here/vault" && go build -trimpath -o "$vault.tmp" . && mv "$vault.tmp" "$vault")
fi
echo "setup: ok (vault: $vault)" >&2

#!/usr/bin/env bash
# Installs the real components the ignored tests run against: Debian's
# nginx and Apache's htpasswd. Does nothing when they are already there.
set -euo pipefail

missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/htpasswd ] || missing+=(apache2-utils)
if [ ${#missing[@]} -eq 0 ]; then
    echo "nginx and htpasswd present"
    exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

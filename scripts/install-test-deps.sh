#!/usr/bin/env bash
# Installs the real components the ignored tests run against: Debian's
# nginx, Apache's htpasswd and PostgreSQL, and a Python venv with MLflow
# and moto.
# A second run reuses what is there.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/htpasswd ] || missing+=(apache2-utils)
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
    echo "nginx, htpasswd and postgresql present"
else
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The venv is keyed by the requirements' hash: a changed pin rebuilds it.
venv="${MLK_TEST_VENV:-$HOME/.cache/mlk/venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum test-requirements.txt | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "python venv present: $venv"
    exit 0
fi
echo "creating python venv: $venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q uv
"$venv/bin/uv" pip install -q --python "$venv/bin/python" --compile-bytecode -r test-requirements.txt
echo "$want" > "$stamp"
"$venv/bin/mlflow" --version

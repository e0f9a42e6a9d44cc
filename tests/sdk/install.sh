#!/usr/bin/env bash
# Installs the official Alibaba Cloud SDKs that tests/it/sdk.rs drives against the simulator:
#   tests/sdk/.venv              the PyPI packages pinned in tests/sdk/requirements.txt
#   tests/sdk/node/node_modules  the npm packages pinned in tests/sdk/node/package-lock.json
# Idempotent: a stamp holding the hash of the pin file skips work already done. Uses only PyPI
# and the npm registry, through pip and npm. Usage: bash tests/sdk/install.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

fail() {
    echo "tests/sdk/install.sh: $*" >&2
    exit 1
}

digest() {
    sha256sum "$@" | sha256sum | cut -d' ' -f1
}

install_python() {
    local venv="$here/.venv" stamp="$here/.venv/.ecsh-installed"
    local want
    want="$(digest "$here/requirements.txt")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
        echo "python SDKs: up to date in $venv"
        return
    fi
    command -v "$python" >/dev/null || fail "$python not found; install Python 3.8+ (apt-get install python3 python3-venv)"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv" || fail "could not create $venv; on Debian: apt-get install python3-venv"
    fi
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$here/requirements.txt" \
        || fail "pip could not install tests/sdk/requirements.txt into $venv"
    echo "$want" >"$stamp"
    echo "python SDKs: installed into $venv"
}

install_node() {
    local dir="$here/node" stamp="$here/node/node_modules/.ecsh-installed"
    local want
    want="$(digest "$dir/package.json" "$dir/package-lock.json")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "node SDK: up to date in $dir/node_modules"
        return
    fi
    command -v npm >/dev/null || fail "npm not found; install Node.js 18+ (apt-get install nodejs npm)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) \
        || fail "npm ci could not install tests/sdk/node/package-lock.json"
    echo "$want" >"$stamp"
    echo "node SDK: installed into $dir/node_modules"
}

install_python
install_node

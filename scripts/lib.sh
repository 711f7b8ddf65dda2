# Shared set-up steps of scripts/run, scripts/test and scripts/bench. Idempotent.
PYTHON=${PYTHON:-python3}

ensure_venv() {
  local extras=${1:-}
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  local stamp=".venv/.installed${extras:+-$extras}"
  fresh() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ] && [ ! sdk/pyproject.toml -nt "$1" ]; }
  # An install with the test extras holds everything ./scripts/run needs (tests run ./scripts/run).
  if [ -n "$extras" ] || ! fresh .venv/.installed-test; then
    if ! fresh "$stamp"; then
      .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
      # Two distributions, one namespace: the SDK (sdk/) and the rest, which depends on it.
      .venv/bin/python -m pip uninstall --quiet --yes lianzheng >/dev/null 2>&1 || true
      .venv/bin/python -m pip install --quiet -e ./sdk -e ".${extras:+[$extras]}"
      touch "$stamp"
    fi
  fi
  # Bytecode of our own sources, as a wheel install would have it: an editable install has none,
  # and where PYTHONDONTWRITEBYTECODE is set every process would compile them afresh (~0.6 s of
  # each `lianzheng` start). Incremental: only changed files are compiled again.
  # Never fatal: a file that does not compile is reported by whatever imports it.
  local out
  if ! out=$(.venv/bin/python -m compileall -q -j 0 alliance chain_node contracts lianzheng notary rules sdk 2>&1); then
    echo "warning: sources not precompiled (every start compiles them): $(printf '%s' "$out" | head -c 300)" >&2
  fi
}

ensure_node_packages() {
  if ! command -v npm >/dev/null; then
    echo "npm is needed for the Solidity compiler and anvil: apt-get install nodejs npm" >&2
    return 1
  fi
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

apt_install() {
  # Debian packages the tests need; installs only what is missing (needs root or says what to do).
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: apt-get install ${missing[*]}" >&2
    return 1
  fi
}

ensure_postgres() {
  # PostgreSQL server binaries from Debian; tests start a throw-away cluster themselves.
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql
}

ensure_browser_tools() {
  # Headless Chromium for the witness-page tests; poppler (pdftoppm) and zbar to read certificates.
  apt_install chromium poppler-utils zbar-tools
}

ensure_fonts() {
  # What every witness certificate PDF embeds (notary/services/certificate_pdf.py ASSETS): DejaVu
  # Sans and Sans Mono, Droid Sans Fallback for Chinese, and colord's sRGB profile for PDF/A.
  apt_install fonts-dejavu-core fonts-droid-fallback colord-data
}

ensure_slither() {
  # Slither in a virtualenv of its own: slither-analyzer requires web3 < 8 (for its storage
  # reader), the project runs on web3 8. The pin lives in pyproject.toml [tool.lianzheng].
  local pin stamp=".venv-slither/.installed"
  pin=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["lianzheng"]["slither"])')
  if [ ! -x .venv-slither/bin/slither ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    [ -x .venv-slither/bin/python ] || "$PYTHON" -m venv .venv-slither
    .venv-slither/bin/python -m pip install --quiet "$pin"
    touch "$stamp"
  fi
}

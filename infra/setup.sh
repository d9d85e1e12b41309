#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (Python 3.11+, JDK 17, Maven, Go and
# Node on PATH): the virtualenv with the package and its dev extras, buf (npm), the Kafka jars
# (Maven Central) and stripe-mock (go install). Idempotent and quick when nothing changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_DIR"

python_bin=${PYTHON_BIN:-python3}
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$python_bin is older than 3.11"
for tool in java mvn go npm; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  log "installing the Python package and dev tools into .venv"
  [ -x .venv/bin/python ] || "$python_bin" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi

# No lock file: npm 11 writes one without other platforms' optional packages that `npm ci` then
# rejects. package.json pins buf exactly, and buf pins its platform binaries exactly.
if [ ! -x node_modules/.bin/buf ] || [ package.json -nt node_modules/.bin/buf ]; then
  log "installing buf (npm)"
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules/.bin/buf
fi

bash infra/kafka/broker.sh install
bash infra/stripe-mock/stripe-mock.sh install
log "ready: .venv/bin/task --list shows what to run"

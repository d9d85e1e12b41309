#!/usr/bin/env bash
# Regenerates the Python code (and .pyi stubs, by mypy-protobuf) for every .proto under schemas/,
# then rewrites the generated imports to the installed package path (schemas.<pkg>.v1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PYTHON=${PYTHON:-../.venv/bin/python}
find . -name '*_pb2.py' -o -name '*_pb2.pyi' | xargs -r rm -f
mapfile -t protos < <(find . -name '*.proto' -printf '%P\n' | sort)
"$PYTHON" -m grpc_tools.protoc -I . --plugin=protoc-gen-mypy="$(dirname "$PYTHON")/protoc-gen-mypy" \
  --python_out=. --mypy_out=. "${protos[@]}"
pkgs='common|escrow|payments|webhooks|contracts|ledger|reconciliation|scheduler'
find . -name '*_pb2.py' -o -name '*_pb2.pyi' | xargs sed -i -E \
  -e "s/^from ($pkgs)\.v1 import /from schemas.\1.v1 import /" \
  -e "s/^import ($pkgs)\.v1\.(\w+_pb2)/import schemas.\1.v1.\2/" \
  -e "s/([^.\w])($pkgs)\.v1\.(\w+_pb2)\b/\1schemas.\2.v1.\3/g"
for d in . $(find . -mindepth 1 -type d -not -name '__pycache__'); do touch "$d/__init__.py"; done

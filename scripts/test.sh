#!/usr/bin/env bash
# The whole test suite, in CI's order; stops at the first problem with a clear message.
# Called by `make test` with the project's virtual environment first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONHASHSEED=0 MPLBACKEND=Agg

# Hash every notebook and generated module so a step that rewrites anything is caught,
# whether or not the working tree has uncommitted work.
snapshot() {
  find nbs idcodeformer -type f \( -name '*.ipynb' -o -name '*.py' \) \
       -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
}
changed() { diff <(echo "$1") <(echo "$2") | grep '^[<>]' | awk '{print "  " $3}' | sort -u; }

step() { printf '\n==> %s\n' "$*"; }

step "nbdev_clean leaves no diff"
before=$(snapshot); nbdev_clean; after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_clean changed these notebooks (run nbdev_clean and commit):"; changed "$before" "$after"; exit 1
fi

step "nbdev_export leaves no diff"
before=$(snapshot); nbdev_export; after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: notebooks and library are not in sync (run nbdev_export and commit):"; changed "$before" "$after"; exit 1
fi

step "no unrestricted pickle loading in the library"
if grep -rnE 'torch\.load\(' idcodeformer | grep -v 'weights_only=True'; then
  echo "FAIL: torch.load without weights_only=True"; exit 1
fi

step "Debian packages of the browser test (chromium, chromium-driver)"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "FAIL: the explorer's browser test needs chromium and chromium-driver; as root: apt-get install chromium chromium-driver"; exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version

step "nbdev_test"
nbdev_test --n_workers "${NBDEV_WORKERS:-2}" --timing

if [ -d tests ] && compgen -G "tests/test_*.py" >/dev/null; then
  step "pytest tests/"
  python -m pytest -q tests
fi

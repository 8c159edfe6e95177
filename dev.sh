#!/usr/bin/env bash
# One entry point that sets everything up on a fresh Debian machine, then runs a job:
#
#   bash dev.sh train     the main job: the seed's sine network, trained as the post does
#   bash dev.sh test      the whole test suite (in one pytest process per core)
#
# Set-up (each step only when needed): Debian's python3-venv and graphviz
# (apt-get, as root or through sudo), a virtual environment in .venv, and
# `pip install -e '.[test]'` (with `wheel`, which tests/test_install.py uses to
# build the wheel a user installs); for the test job also Debian's chromium (the
# browser tests).  Extra arguments go to the job.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}

say() { echo "dev.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

apt_install() {  # apt_install PACKAGE...
  if ! command -v apt-get >/dev/null 2>&1; then
    say "this machine has no apt-get; please install: $* (your system's packages), then run me again"
    exit 1
  fi
  say "installing $* with apt-get"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
    say "could not install $* (that needs root or password-less sudo)."
    say "install it yourself with:  sudo apt-get install -y $*   then run me again"
    exit 1
  fi
}

command -v python3 >/dev/null 2>&1 || apt_install python3
command -v dot >/dev/null 2>&1 || apt_install graphviz

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtual environment $VENV"
  # Debian splits venv's pip bootstrap into python3-venv: install it when venv fails.
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV"
  fi
fi
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing tinygrad_sine and its test tools into $VENV"
  "$VENV/bin/python" -m pip install -q -e '.[test]' wheel  # wheel: setuptools < 70.1 builds wheels with it
  touch "$stamp"
fi

job=${1:-}
[ $# -gt 0 ] && shift
case "$job" in
  train) exec "$VENV/bin/tinygrad-sine" train "$@" ;;
  demo)  exec "$VENV/bin/python" examples/quickstart.py "$@" ;;
  test)  # the explorer page's tests drive Debian's Chromium headless (never a downloaded one)
         command -v chromium >/dev/null 2>&1 || apt_install chromium
         # The whole suite: one pytest process per core, sharing the test files out
         # (tests/run_parallel.py).  With arguments, plain pytest runs just what they select.
         [ $# -eq 0 ] && exec "$VENV/bin/python" tests/run_parallel.py
         exec "$VENV/bin/python" -m pytest "$@" ;;
  setup) say "set-up done; activate with: source $VENV/bin/activate" ;;
  *) say "usage: bash dev.sh train|test|demo|setup [arguments for the job]"; exit 2 ;;
esac

#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source (the unpacked zip) when it
# builds the autograder image: a Python >= 3.11 (installed with apt if the image has
# none), a virtual environment in /autograder/venv, and this project installed into it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/venv"
export DEBIAN_FRONTEND=noninteractive

find_python() {
  local p
  for p in python3 python3.13 python3.12 python3.11; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$p"
      return 0
    fi
  done
  return 1
}

apt_install() {
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"
}

if ! PY="$(find_python)"; then
  echo "setup.sh: no Python >= 3.11 on this image; installing one with apt"
  apt_install python3.11 python3.11-venv || apt_install python3 python3-venv
  PY="$(find_python)" || { echo "setup.sh: could not install Python >= 3.11" >&2; exit 1; }
fi
echo "setup.sh: using $PY ($("$PY" --version 2>&1))"

if ! "$PY" -m venv --clear "$VENV"; then
  # Debian and Ubuntu ship venv/ensurepip in a separate package.
  rm -rf "$VENV"
  apt_install "python$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv" python3-venv
  "$PY" -m venv --clear "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --upgrade pip
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-cache-dir "$HERE"
# Import the grader and every graded test once, so that a missing piece fails the
# image build rather than every submission.
(cd / && "$VENV/bin/python" -c "from autograder.framework import load_exercises; print(len(load_exercises()), 'exercises')")
# Readable (not writable) by everyone, so that submissions can run as an unprivileged user ...
chmod a+rx "$ROOT" && chmod -R a+rX "$VENV"
# ... but for the project itself: the reference (and the graded tests) stay root's alone, in the
# installed copy and in this unpacked source, so that no sandbox user can read them.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for p in "$SITE/solutions" "$SITE/autograder" "$HERE"; do
  if [ -e "$p" ]; then chmod -R go-rwx "$p"; fi
done

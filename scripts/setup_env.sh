#!/usr/bin/env bash
# Creates or updates one virtual environment; does nothing when it is already up to date.
# usage: scripts/setup_env.sh NAME PYTHON_VERSION   (reads requirements/NAME.in, the files it
# includes, and NAME.lock)
set -euo pipefail
name=$1
want=$2
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venvs/$name"
stamp="$venv/.requirements.sha256"
# requirements/NAME.in includes each deployable's own requirements.in (-r); all of them count.
included=$(sed -n 's/^-r \.\.\///p' "$root/requirements/$name.in" | sed "s#^#$root/#")
wanted_hash=$(cat "$root/requirements/$name.in" $included "$root/requirements/$name.lock" | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted_hash" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

find_python() {
  if command -v pyenv >/dev/null 2>&1; then
    local base
    base=$(pyenv root)/versions
    local candidate
    candidate=$(ls -d "$base/$want".* 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$candidate" ] && [ -x "$candidate/bin/python" ]; then
      echo "$candidate/bin/python"
      return
    fi
  fi
  if command -v "python$want" >/dev/null 2>&1; then
    command -v "python$want"
    return
  fi
  echo "ERROR: Python $want is needed for the '$name' environment but was not found." >&2
  echo "       Install it (e.g. 'pyenv install $want') and run this again." >&2
  exit 1
}

if [ ! -x "$venv/bin/python" ]; then
  python=$(find_python)
  echo "Creating .venvs/$name with $python"
  "$python" -m venv "$venv"
fi
actual=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$actual" != "$want" ]; then
  echo "ERROR: .venvs/$name runs Python $actual, not $want; remove .venvs/$name and retry." >&2
  exit 1
fi
echo "Installing requirements/$name.in into .venvs/$name (pinned by requirements/$name.lock)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$root/requirements/$name.in" -c "$root/requirements/$name.lock"
echo "$wanted_hash" > "$stamp"

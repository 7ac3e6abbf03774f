#!/usr/bin/env bash
# Creates or updates one virtual environment; does nothing when it is already up to date.
# usage: scripts/setup_env.sh NAME PYTHON_VERSION   (reads requirements/NAME.in, the files it
# includes, and NAME.lock)
#
# The environment lives in the user's cache folder (core/user_cache.py), one per set of requirements,
# and .venvs/NAME links to it. Why: every new clone (CI's, a second worktree) installed the same ~200
# pinned packages again, 2-3 minutes of a 2-core machine; a clone of the same requirements now links
# in a second. Changed requirements (NAME.in, what it includes, NAME.lock, the Python version) get a
# new environment, and the least recently used beyond VENVS_KEPT per name are removed.
set -euo pipefail
name=$1
want=$2
root=$(cd "$(dirname "$0")/.." && pwd)
link="$root/.venvs/$name"
VENVS_KEPT=3
# requirements/NAME.in includes each deployable's own requirements.in (-r); all of them count.
included=$(sed -n 's/^-r \.\.\///p' "$root/requirements/$name.in" | sed "s#^#$root/#")
wanted_hash=$({ echo "python $want"; cat "$root/requirements/$name.in" $included "$root/requirements/$name.lock"; } \
  | sha256sum | cut -d' ' -f1)

up_to_date() {  # FOLDER: an environment installed completely from these requirements
  [ -f "$1/.requirements.sha256" ] && [ "$(cat "$1/.requirements.sha256")" = "$wanted_hash" ] && [ -x "$1/bin/python" ]
}

if up_to_date "$link"; then
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

python=$(find_python)
cache=$("$python" -c 'import os, sys; sys.path.insert(0, sys.argv[1]); from core.user_cache import user_cache_folder
print(user_cache_folder(os.environ))' "$root")
venvs="$cache/venvs"
shared="$venvs/$name-${wanted_hash:0:16}"
mkdir -p "$venvs"
exec 9>"$shared.lock"
flock 9  # two checkouts setting up at once: one installs, the other waits, then links
if ! up_to_date "$shared"; then
  rm -rf "$shared"  # a half-made one: the stamp is written last
  echo "Creating $shared with $python"
  "$python" -m venv "$shared"
  actual=$("$shared/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ "$actual" != "$want" ]; then
    echo "ERROR: $python runs Python $actual, not $want." >&2
    exit 1
  fi
  echo "Installing requirements/$name.in into it (pinned by requirements/$name.lock)"
  "$shared/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/requirements/$name.in" -c "$root/requirements/$name.lock"
  echo "$wanted_hash" > "$shared/.requirements.sha256"
fi
touch "$shared"  # its modification time: when a checkout last linked it
mkdir -p "$root/.venvs"
rm -rf "$link"  # this checkout's environment of other requirements (a link, or a folder of before)
ln -s "$shared" "$link"
echo ".venvs/$name -> $shared"
# shellcheck disable=SC2012  # names made above: no spaces or newlines
ls -dt "$venvs/$name"-*/ | tail -n +$((VENVS_KEPT + 1)) | while read -r stale; do
  rm -rf "$stale"
  rm -f "${stale%/}.lock"
done

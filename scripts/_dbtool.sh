# Sourced by backup.sh, restore.sh and migrate.sh: pick a Python, drop root inside the
# container, then hand over to dbtool.py. Not meant to be run on its own.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

# Inside the container a `docker exec` runs as root: go through the entrypoint, which runs the
# script again as the unprivileged user, so no file in /data ends up owned by root.
if [ "${KAMO_CONTAINER:-}" = "1" ] && [ "$(id -u)" = "0" ] && [ -z "${KAMO_AS_USER:-}" ] \
   && command -v kamo-entrypoint >/dev/null 2>&1; then
  export KAMO_AS_USER=1
  exec kamo-entrypoint bash "$here/$(basename "$0")" "$@"
fi

# The Python that has the project's dependencies: $PYTHON when set, then the repository's
# .venv, then python3 on PATH (the image's virtualenv, or an activated one).
if [ -n "${PYTHON:-}" ]; then
  py=$PYTHON
elif [ -x "$root/.venv/bin/python" ]; then
  py=$root/.venv/bin/python
elif command -v python3 >/dev/null 2>&1; then
  py=python3
else
  py=python
fi

run_dbtool() {
  exec "$py" "$here/dbtool.py" "$@"
}

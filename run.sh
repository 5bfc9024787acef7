#!/usr/bin/env bash
# Set up (once, cached) and run:  ./run.sh grade [HW [SUBMISSION] [grader options]]  |  ./run.sh test
#
# The environment lives outside the clone, in $VAECOURSE_CACHE (default ~/.cache/vaecourse),
# in a folder named by a hash of requirements.txt and .ci/constraints.txt, so a second clone or
# a CI run reuses it and any change of requirements builds a fresh one. `grade` runs in the
# caller's folder, so relative paths mean what they say there; `test` runs in the repository.
set -euo pipefail
repo="$(cd "$(dirname "$0")" && pwd)"
cache="${VAECOURSE_CACHE:-$HOME/.cache/vaecourse}"
key=$(cat "$repo/requirements.txt" "$repo/.ci/constraints.txt" | sha256sum | cut -c1-16)
venv="$cache/venv-$key"
if [ ! -f "$venv/.ready" ]; then
  echo "setting up $venv (one time, about two minutes)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -r "$repo/requirements.txt" -c "$repo/.ci/constraints.txt"
  touch "$venv/.ready"
fi
export PATH="$venv/bin:$PATH" PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
# The data sets: $VAECOURSE_DATA if set, else the read-only copy beside the repository, if any.
if [ -z "${VAECOURSE_DATA:-}" ] && [ -d "$repo/../shared/data/MNIST" ]; then
  export VAECOURSE_DATA="$(cd "$repo/../shared/data" && pwd)"
fi
what="${1:-test}"
shift || true
case "$what" in
  grade) [ $# -gt 0 ] || set -- hw_gmvae_iwae_ssvae "$repo/solutions/hw_gmvae_iwae_ssvae"
         exec python -m grader "$@" ;;
  test)  cd "$repo"
         ruff check . && ruff format --check .
         exec python -m pytest "$@" ;;
  *)     echo "usage: ./run.sh grade [HW [SUBMISSION] [options]] | ./run.sh test [pytest options]" >&2
         exit 2 ;;
esac

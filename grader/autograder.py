"""Build a homework's Gradescope autograder: a zip with setup.sh, run_autograder and the grader.

Gradescope unpacks the zip into /autograder/source and runs setup.sh there once, as root, when
it builds the image; then run_autograder for every submission, with the student's files in
/autograder/submission, expecting /autograder/results/results.json. Both scripts read
$AUTOGRADER_ROOT (default /autograder) so that a test can run them in a scratch folder.
"""

from pathlib import Path, PurePosixPath

from grader import homeworks
from grader.homeworks import ROOT, Homework
from grader.release import collect
from grader.release.bundle import ReleaseError, is_ignored
from grader.release.zip_release import write_atomically, zip_bytes

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SCRIPTS = ("run_autograder", "setup.sh")  # at the zip's root, executable
COMMON = ("requirements.txt", ".ci/constraints.txt")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the image, in $root/source (the unpacked
# autograder zip). It makes the virtual environment that run_autograder uses: CPU-only PyTorch,
# pinned by .ci/constraints.txt, and the course's requirements.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
venv="$root/venv"  # outside source/, which run_autograder makes unreadable to the student
cd "$root/source"
install_python() {
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    python3 python3-venv python3-pip
}
command -v python3 >/dev/null || install_python
if ! python3 -c "import sys; sys.exit(sys.version_info < (3, 10))"; then
  echo "setup.sh: the grader needs Python 3.10 or newer; pick Gradescope's Ubuntu 22.04" \\
    "base image (or newer) in the assignment's autograder settings" >&2
  exit 1
fi
rm -rf "$venv"
python3 -m venv "$venv" || { rm -rf "$venv"; install_python; python3 -m venv "$venv"; }
pins=$(sed -n 's/^\\(torch\\(vision\\)\\{0,1\\}==[^ #]*\\).*/\\1/p' .ci/constraints.txt)
[ "$(echo "$pins" | wc -w)" = 2 ] || {
  echo "setup.sh: .ci/constraints.txt must pin torch==X and torchvision==Y" >&2
  exit 1
}
pip=("$venv/bin/pip" install --no-cache-dir --disable-pip-version-check)
"${pip[@]}" --upgrade pip
# shellcheck disable=SC2086 - two words: the torch and torchvision pins
"${pip[@]}" $pins --index-url __INDEX__  # the CPU-only wheels: no CUDA libraries
"${pip[@]}" -r requirements.txt -c .ci/constraints.txt  # keeps that torch: it is pinned
chmod -R a+rX "$venv"  # student code runs as another user, with this interpreter
"$venv/bin/python" -c "import torch, torchvision, grader.run; print('ready:', torch.__version__)"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades $root/submission on the quick tier and
# writes $root/results/results.json; arguments are passed on to the grader.
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
python="${AUTOGRADER_PYTHON:-$root/venv/bin/python}"
results="$root/results/results.json"
cd "$root/source"
# The student's code runs as an unprivileged user: the hidden tests, the reference solution
# and the trained weights stay readable by root only.
chmod -R go-rwx "$root/source"
mkdir -p "$root/results"
rm -f "$results"
status=0
"$python" -m grader __HW__ "$root/submission" --tier quick --results "$results" "$@" || status=$?
if [ ! -s "$results" ]; then  # the grader itself failed before writing: say so, score nothing
  printf '{"score": 0, "output": "%s", "tests": []}\\n' \\
    "The autograder failed before grading (exit status $status); course staff will look." \\
    > "$results"
fi
exit "$status"
"""


def _tree(folder: Path, under: str) -> dict[str, Path]:
    """Every shipped file below `folder` as {archive path under `under`: file}.

    Caches, training artifacts (checkpoints/, samples/) and hidden files are left out.
    """
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.is_file() and not path.is_symlink() and not hidden and not is_ignored(relative):
            found[f"{under}/{relative}"] = path
    return found


def grader_files(hw: Homework) -> dict[str, Path]:
    """The grader package with this homework's tests only: grader/*.py, release/, <hw>/."""
    package = Path(__file__).resolve().parent
    files = {f"grader/{p.name}": p for p in sorted(package.glob("*.py"))}
    files.update(_tree(package / "release", "grader/release"))
    files.update(_tree(hw.tests, f"grader/{hw.name}"))
    return files


def solution_files(hw: Homework) -> dict[str, Path]:
    """What grading reads from solutions/<hw>: its packages and top-level modules
    (reference.load imports from both: hw_vae's full tier trains with vae_mnist.py) and the
    sources of the reference copies staged next to the submission."""
    files = {}
    for entry in sorted(hw.solution.iterdir()):
        if (entry / "__init__.py").is_file():
            files.update(_tree(entry, f"solutions/{hw.name}/{entry.name}"))
        elif entry.suffix == ".py" and entry.is_file():
            files[f"solutions/{hw.name}/{entry.name}"] = entry
    for source in hw.reference_copies:
        files[f"solutions/{hw.name}/{source}"] = hw.solution / source
    return files


def release_files(hw: Homework) -> dict[str, Path]:
    """The committed student folder, on which the grader stages each submission.

    Raises ReleaseError if it has drifted from solutions/<hw>: stale starter files would be
    graded in place of any file a student leaves out.
    """
    files = _tree(hw.release, hw.name)
    expected = {f"{hw.name}/{path}": data for path, data in collect(hw.name, repo=ROOT).items()}
    if expected.keys() != files.keys() or any(
        files[name].read_bytes() != data for name, data in expected.items()
    ):
        raise ReleaseError(
            f"{hw.release} differs from the release of solutions/{hw.name}; regenerate it "
            f"with: python -m grader release {hw.name}"
        )
    return files


def contents(hw: Homework) -> dict[str, bytes]:
    """Every entry of the autograder zip: {path in the zip: bytes}."""
    files = {
        **grader_files(hw),
        **solution_files(hw),
        **release_files(hw),
        **_tree(ROOT / "coursekit", "coursekit"),
        **{name: ROOT / name for name in COMMON},
    }
    entries = {name: path.read_bytes() for name, path in files.items()}
    entries["setup.sh"] = SETUP_SH.replace("__INDEX__", PYTORCH_CPU_INDEX).encode()
    entries["run_autograder"] = RUN_AUTOGRADER.replace("__HW__", hw.name).encode()
    return entries


def build(homework: str, out: Path) -> list[str]:
    """Write the autograder zip of `homework` to `out`; returns its entries, sorted."""
    entries = contents(homeworks.get(homework))
    write_atomically(zip_bytes(entries, executable=SCRIPTS), Path(out))
    return sorted(entries)


def main(homework: str, *, out: Path | None = None) -> int:
    """Build the autograder zip (default ./<hw>-autograder.zip) and say how to use it."""
    hw = homeworks.get(homework)
    out = Path(out) if out is not None else Path(f"{hw.name}-autograder.zip")
    written = build(hw.name, out)
    print(
        f"wrote {len(written)} files to {out}: upload it as the autograder of a Gradescope "
        "programming assignment (base image Ubuntu 22.04 or newer); students submit "
        + ", ".join(hw.student_files)
    )
    return 0

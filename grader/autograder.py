"""Build a homework's Gradescope autograder: a zip with setup.sh, run_autograder and the grader.

Gradescope unpacks the zip into /autograder/source and runs setup.sh there once, as root, when
it builds the image; then run_autograder for every submission, with the student's files in
/autograder/submission, expecting /autograder/results/results.json. Both scripts read
$AUTOGRADER_ROOT (default /autograder) so that a test can run them in a scratch folder.
"""

import sys
from pathlib import Path, PurePosixPath

from grader import homeworks
from grader.homeworks import ROOT, Homework
from grader.release import collect
from grader.release.bundle import ReleaseError, is_ignored
from grader.release.zip_release import write_atomically, zip_bytes

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
SCRIPTS = ("run_autograder", "setup.sh")  # at the zip's root, executable
COMMON = ("requirements.txt", ".ci/constraints.txt", "requirements-student.txt")
# What each tier needs in the assignment's autograder settings (measured: README, "Gradescope").
GRADESCOPE_SETTINGS = {
    "quick": "the default resources (0.5 CPU, 768 MB) and timeout (10 minutes) suffice",
    "full": "set 2 CPUs, 3 GB of memory and a timeout of 20 minutes",
}

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
if ! python3 -c "import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))"; then
  echo "setup.sh: the grader is tested with Python 3.10, 3.11 and 3.12, and this image has" \\
    "$(python3 -V 2>&1); pick Gradescope's Ubuntu 22.04 (Python 3.10) or 24.04 (Python 3.12)" \\
    "base image in the assignment's autograder settings" >&2
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
if [ -d data/MNIST ]; then  # unpack MNIST's archives once, at build time, not per submission
  "$venv/bin/python" -c "from coursekit.data import load_mnist as m; m('train', 'data', False)"
fi
"$venv/bin/python" -c "import torch, torchvision, grader.run; print('ready:', torch.__version__)"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades $root/submission on the __TIER__ tier and
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
options=(--tier __TIER__ --visibility __VISIBILITY__ --public-checks --results "$results")
[ -d "$root/source/data" ] && options+=(--data-root "$root/source/data")
status=0
"$python" -m grader __HW__ "$root/submission" "${options[@]}" "$@" || status=$?
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


def data_files(hw: Homework, tier: str, data_root: str | None) -> dict[str, Path]:
    """The data files that grading `hw` on `tier` reads, as {path in the zip: file}.

    The full tier cannot run without its data sets: a missing one is an error. A quick-tier
    file that is missing (hw_svhn's SVHN subset) only leaves out the test that needs it: the
    results then omit that test, and course staff find why in the instructor log.
    """
    from coursekit.downloads import data_root as resolve_root

    root, found = resolve_root(data_root), {}
    for relpath in hw.data_files(tier):
        path = root / relpath
        if path.is_file():
            found[f"data/{relpath}"] = path
        elif relpath in hw.data.get("full", ()) and tier == "full":
            raise ReleaseError(
                f"the full tier of {hw.name} reads {relpath}, which is not in {root}: put it "
                "there or pass --data-root (the folder that holds it)"
            )
        else:
            print(
                f"warning: {relpath} is not in {root}, so the bundle leaves out the test that "
                "trains on it (pass --data-root to ship it)",
                file=sys.stderr,
            )
    return found


def contents(
    hw: Homework, tier: str = "quick", visibility: str = "visible", data_root: str | None = None
) -> dict[str, bytes]:
    """Every entry of the autograder zip: {path in the zip: bytes}."""
    files = {
        **grader_files(hw),
        **solution_files(hw),
        **release_files(hw),
        **_tree(ROOT / "coursekit", "coursekit"),
        **{name: ROOT / name for name in COMMON},
        **data_files(hw, tier, data_root),
    }
    entries = {name: path.read_bytes() for name, path in files.items()}
    entries["setup.sh"] = SETUP_SH.replace("__INDEX__", PYTORCH_CPU_INDEX).encode()
    script = RUN_AUTOGRADER.replace("__HW__", hw.name).replace("__TIER__", tier)
    entries["run_autograder"] = script.replace("__VISIBILITY__", visibility).encode()
    return entries


def build(
    homework: str,
    out: Path,
    tier: str = "quick",
    visibility: str = "visible",
    data_root: str | None = None,
) -> list[str]:
    """Write the autograder zip of `homework` to `out`; returns its entries, sorted."""
    entries = contents(homeworks.get(homework), tier, visibility, data_root)
    write_atomically(zip_bytes(entries, executable=SCRIPTS), Path(out))
    return sorted(entries)


def main(
    homework: str,
    *,
    out: Path | None = None,
    tier: str = "quick",
    visibility: str = "visible",
    data_root: str | None = None,
) -> int:
    """Build the autograder zip (default ./<hw>-autograder.zip) and say how to use it.

    tier: what run_autograder grades (full: the data sets go into the bundle); visibility:
    Gradescope's visibility of the hidden tests (the public checks are always visible).
    """
    hw = homeworks.get(homework)
    out = Path(out) if out is not None else Path(f"{hw.name}-autograder.zip")
    written = build(hw.name, out, tier, visibility, data_root)
    settings = GRADESCOPE_SETTINGS[tier]
    print(
        f"wrote {len(written)} files to {out}: upload it as the autograder of a Gradescope "
        f"programming assignment, base image Ubuntu 22.04 or 24.04, {settings}; students "
        "submit " + ", ".join(hw.student_files)
    )
    return 0

"""Hostile and broken submissions: each must be contained and end with a clear verdict.

A case is a submission (the reference's student files with one thing made hostile, or a
malformed archive) and what grading it must give: which items keep full marks, which lose
them and with what verdict in the student's message. They are graded on the hidden tests of
test_utils.py (items 1.1 and 2.1), plus test_ssvae.py (item 4.2) for the cases that attack at
import time from ssvae.py, so that one item is hit and the others must stay intact.

    python tests/hostile.py         # grade every case and print the verdicts as a table
"""

import stat
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from submissions import HW, REPO, SOLUTION, build  # noqa: E402

from grader import homeworks  # noqa: E402

STUDENT_FILES = homeworks.get(HW).student_files

UTILS, SSVAE = "codebase/utils.py", "codebase/models/ssvae.py"
SAMPLE = "    return m + v.sqrt() * torch.randn_like(m)\n"
SS_IMPORTS = "from codebase.models import nns\n"
SECRET_TEST = REPO / "grader" / HW / "test_utils.py"
SECRET_WEIGHTS = REPO / "grader" / HW / "weights" / "vae.pt"
SECRET_SOLUTION = SOLUTION / UTILS
CANARY = "/tmp/vaecourse-hostile-canary"  # must not exist after grading
RESULTS = "/tmp/vaecourse-hostile-results.json"  # where the grader writes (the cases aim at it)
KEEP = "/tmp/vaecourse-hostile-keep"  # made before grading; must be unchanged after it
TIMEOUT = 8.0  # seconds per call: test_utils.py's calls take well under one on the reference
UTILS_ONLY = ("test_utils.py",)
WITH_SSVAE = ("test_utils.py", "test_ssvae.py")


@dataclass
class Case:
    name: str
    what: str  # the attack, for the table
    edits: dict = field(default_factory=dict)  # {file: (old, new)} on the reference
    make: object = None  # (tmp folder) -> submission path, instead of edits
    tests: tuple = UTILS_ONLY
    lose: tuple = ()  # items that must lose points
    verdict: str | tuple = ""  # a phrase (or one of several) that each lost item must say
    keep: tuple = ("1.1", "2.1")  # items that must keep full marks (those not lost)
    graded: bool = True  # False: the submission cannot be read at all; a note says why
    note: str = ""  # a phrase one of the results' notes must contain
    isolated: bool = False  # contained only by the namespaces and the user change (root only)
    timeout: float = TIMEOUT  # seconds per call


def in_sample(body: str) -> dict:
    """Replace the body of sample_gaussian (item 1.1) by `body` (indented 4)."""
    return {UTILS: (SAMPLE, body)}


def at_ssvae_import(code: str) -> dict:
    """Run `code` at the top level of ssvae.py, when it is imported."""
    return {SSVAE: (SS_IMPORTS, SS_IMPORTS + code)}


def zip_of(entries: list, tmp: Path, name: str = "submission.zip") -> Path:
    """A zip with the reference's files plus `entries` of (ZipInfo or name, bytes)."""
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in STUDENT_FILES:
            zf.writestr(f, (SOLUTION / f).read_bytes())
        for info, data in entries:
            zf.writestr(info, data)
    return path


def traversal_zip(tmp: Path) -> Path:
    return zip_of(
        [("../../../tmp/vaecourse-hostile-canary", b"x"), ("/tmp/vaecourse-hostile-canary", b"x")],
        tmp,
    )


def symlink_zip(tmp: Path) -> Path:
    """utils.py is a symbolic link to the solution (and the real file is left out)."""
    path = tmp / "submission.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in STUDENT_FILES[1:]:
            zf.writestr(f, (SOLUTION / f).read_bytes())
        link = zipfile.ZipInfo(UTILS)
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(SECRET_SOLUTION))
    return path


def bomb_zip(tmp: Path) -> Path:
    """100 entries of 1 MB of zeros each: a few kB packed, 100 MB unpacked."""
    return zip_of([(f"padding/{i}.txt", bytes(2**20)) for i in range(100)], tmp)


def big_entry_zip(tmp: Path) -> Path:
    """One 300 MB entry of zeros next to the real files: it is skipped, the rest graded."""
    path = zip_of([], tmp)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("huge.bin", "w") as f:
        chunk = bytes(2**24)
        for _ in range(300 * 2**20 // len(chunk)):
            f.write(chunk)
    return path


def not_a_zip(tmp: Path) -> Path:
    path = tmp / "submission.zip"
    path.write_bytes(b"this is not an archive\n" * 10)
    return path


def missing_utils(tmp: Path) -> Path:
    folder = build(tmp / "submission")
    (folder / UTILS).unlink()
    return folder


def binary_utils(tmp: Path) -> Path:
    folder = build(tmp / "submission")
    (folder / UTILS).write_bytes(bytes(range(256)) * 8)
    return folder


def read_secret(path: Path) -> dict:
    return in_sample(f"    return open({str(path)!r}, 'rb').read()[:400].decode('latin-1')\n")


CASES = [
    Case(
        "loop-in-function",
        "infinite loop inside sample_gaussian",
        in_sample("    while True:\n        pass\n"),
        lose=("1.1",),
        verdict="timed out",
    ),
    Case(
        "loop-at-import",
        "infinite loop when ssvae.py is imported",
        at_ssvae_import("while True:\n    pass\n"),
        tests=WITH_SSVAE,
        lose=("4.2",),
        verdict="while importing codebase/models/ssvae.py",
        note="importing",
    ),
    Case(
        "memory-bomb",
        "allocates without end inside sample_gaussian",
        in_sample("    hoard = []\n    while True:\n        hoard.append(bytearray(2**28))\n"),
        lose=("1.1",),
        verdict=("MemoryError", "GB of memory"),
        timeout=60.0,
    ),
    Case(
        "memory-hog-hang",
        "fills 2 GB, then waits forever inside sample_gaussian",
        in_sample("    import time\n    hoard = bytearray(2**31)\n    time.sleep(3600)\n"),
        lose=("1.1",),
        verdict="GB of memory: look for memory that grows",
    ),
    Case(
        "tensor-memory-bomb",
        "asks torch for 1 TB inside sample_gaussian",
        in_sample("    return torch.empty(2**38, dtype=torch.float32).fill_(0)\n"),
        lose=("1.1",),
        verdict="RuntimeError",
    ),
    Case(
        "sys-exit-at-import",
        "sys.exit() when ssvae.py is imported",
        at_ssvae_import("import sys\nsys.exit(3)\n"),
        tests=WITH_SSVAE,
        lose=("4.2",),
        verdict="SystemExit",
    ),
    Case(
        "sys-exit-in-function",
        "sys.exit() inside sample_gaussian",
        in_sample("    import sys\n    sys.exit(0)\n"),
        lose=("1.1",),
        verdict="SystemExit",
    ),
    Case(
        "os-exit-at-import",
        "os._exit() when ssvae.py is imported",
        at_ssvae_import("import os\nos._exit(0)\n"),
        tests=WITH_SSVAE,
        lose=("4.2",),
        verdict="died",
        note="importing",
    ),
    Case(
        "os-exit-in-function",
        "os._exit() inside sample_gaussian",
        in_sample("    import os\n    os._exit(1)\n"),
        lose=("1.1",),
        verdict="died",
    ),
    Case(
        "fork-bomb",
        "os.fork() in a loop inside sample_gaussian",
        in_sample("    import os\n    while True:\n        os.fork()\n"),
        lose=("1.1",),
        verdict="starting processes is not allowed",
    ),
    Case(
        "native-fork-bomb",
        "libc fork() through ctypes in a loop (gets past Python's hooks)",
        in_sample(
            "    import ctypes\n    libc = ctypes.CDLL(None)\n    while True:\n"
            "        libc.fork()\n"
        ),
        lose=("1.1",),
        verdict="timed out",
        isolated=True,
    ),
    Case(
        "print-100mb",
        "prints 100 MB inside sample_gaussian",
        in_sample("    print('x' * 100 * 2**20, flush=True)\n" + SAMPLE),
        lose=("1.1",),
        verdict="limited to 64 MB",
    ),
    Case(
        "write-outside",
        "writes a file in /tmp and over the grader's results, quietly",
        in_sample(
            "    for p in (" + repr(CANARY) + ", " + repr(RESULTS) + ",\n"
            "              " + repr(KEEP) + ", " + repr(str(REPO / "README.md")) + "):\n"
            "        try:\n            open(p, 'w').write('pwned')\n"
            "        except OSError:\n            pass\n" + SAMPLE
        ),
    ),
    Case(
        "delete-outside",
        "deletes the grader's files, quietly",
        in_sample(
            "    import os, shutil\n"
            "    for p in ("
            + repr(str(SECRET_TEST))
            + ", "
            + repr(str(REPO / "README.md"))
            + ", "
            + repr(RESULTS)
            + ", "
            + repr(KEEP)
            + "):\n        try:\n            os.remove(p)\n"
            "        except OSError:\n            pass\n"
            "    try:\n        shutil.rmtree(" + repr(str(REPO / "grader")) + ")\n"
            "    except OSError:\n        pass\n" + SAMPLE
        ),
    ),
    Case(
        "read-hidden-test",
        "reads the hidden tests and returns them in its error",
        read_secret(SECRET_TEST),
        lose=("1.1",),
        verdict="PermissionError",
    ),
    Case(
        "read-weights",
        "reads the reference weights",
        read_secret(SECRET_WEIGHTS),
        lose=("1.1",),
        verdict="PermissionError",
    ),
    Case(
        "read-solution",
        "reads the reference solution",
        read_secret(SECRET_SOLUTION),
        lose=("1.1",),
        verdict="PermissionError",
    ),
    Case(
        "read-reference-copy",
        "reads the trusted helpers staged next to it",
        read_secret(Path("_reference/utils.py")),
        lose=("1.1",),
        verdict="PermissionError",
        isolated=True,
    ),
    Case(
        "network",
        "opens a TCP connection",
        in_sample(
            "    import socket\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n" + SAMPLE
        ),
        lose=("1.1",),
        verdict="network access is not allowed",
    ),
    Case(
        "tensor-subclass",
        "returns a subclass of torch.Tensor",
        in_sample(
            "    class Sneaky(torch.Tensor):\n        pass\n"
            "    return (m + v.sqrt() * torch.randn_like(m)).as_subclass(Sneaky)\n"
        ),
        lose=("1.1",),
        verdict="expected a torch.Tensor",
    ),
    Case(
        "always-equal",
        "returns an object whose comparisons always say equal",
        in_sample(
            "    class Equal:\n        def __eq__(self, other):\n            return True\n"
            "        __ne__ = lambda self, other: False\n"
            "        shape = property(lambda self: m.shape)\n"
            "    return Equal()\n"
        ),
        lose=("1.1",),
        verdict="expected a torch.Tensor",
    ),
    Case(
        "nan",
        "returns NaN",
        in_sample("    return torch.full_like(m, float('nan'))\n"),
        lose=("1.1",),
        verdict="non-finite",
    ),
    Case(
        "wrong-dtype",
        "returns integers",
        in_sample("    return (m + v.sqrt() * torch.randn_like(m)).round().long()\n"),
        lose=("1.1",),
        verdict="dtype",
    ),
    Case(
        "wrong-shape",
        "returns one value per row",
        in_sample("    return (m + v.sqrt() * torch.randn_like(m)).sum(-1)\n"),
        lose=("1.1",),
        verdict="shape",
    ),
    Case(
        "patch-torch",
        "patches torch's comparisons, then returns the mean m",
        in_sample(
            "    torch.allclose = lambda *a, **k: True\n"
            "    torch.equal = lambda *a, **k: True\n"
            "    torch.Tensor.__eq__ = lambda self, o: torch.ones((), dtype=torch.bool)\n"
            "    torch.isfinite = lambda t: torch.ones_like(t, dtype=torch.bool)\n"
            "    return m.clone()\n"
        ),
        lose=("1.1",),
        verdict="sample variances",
    ),
    Case(
        "patch-grader",
        "replaces the worker's own functions to forge results",
        {
            UTILS: (
                "import torch\n",
                "import torch\n"
                "import __main__ as _w\n"
                "if hasattr(_w, 'OPS'):\n"
                "    for _op in list(_w.OPS):\n"
                "        _w.OPS[_op] = lambda req: {'runs': [{'outputs': [torch.zeros(3)]}]}\n",
            )
        },
        lose=("1.1", "2.1"),
        verdict="malformed",
        keep=(),
    ),
    Case(
        "syntax-error",
        "utils.py does not parse",
        {UTILS: ("def sample_gaussian(", "def sample_gaussian(:")},
        lose=("1.1", "2.1"),
        verdict="SyntaxError",
        keep=(),
    ),
    Case(
        "not-python",
        "utils.py is binary data",
        make=binary_utils,
        lose=("1.1", "2.1"),
        verdict="null bytes",
        keep=(),
    ),
    Case(
        "missing-file",
        "utils.py is not in the submission",
        make=missing_utils,
        lose=("1.1", "2.1"),
        verdict="not implemented yet",
        keep=(),
        note="utils.py",
    ),
    Case("zip-traversal", "zip entries named ../../../tmp/... and /tmp/...", make=traversal_zip),
    Case(
        "zip-symlink",
        "utils.py is a symbolic link to the solution inside the zip",
        make=symlink_zip,
        lose=("1.1", "2.1"),
        verdict="not implemented yet",
        keep=(),
    ),
    Case(
        "zip-bomb",
        "100 MB of zeros packed into a few kB",
        make=bomb_zip,
        graded=False,
        note="unpacks to over",
    ),
    Case(
        "zip-huge-entry",
        "one 300 MB entry next to the real files",
        make=big_entry_zip,
        note="huge.bin",
    ),
    Case(
        "not-a-zip",
        "a .zip that is not an archive",
        make=not_a_zip,
        graded=False,
        note="neither a folder nor a .zip",
    ),
]

# Text of the secrets that must never show up in results.
SECRETS_TEXT = (SECRET_TEST.read_text().splitlines()[0], SECRET_SOLUTION.read_text()[-200:])


def make_submission(case: Case, tmp: Path) -> Path:
    if case.make is not None:
        return case.make(tmp)
    return build(tmp / "submission", case.edits)


def grade(case: Case, tmp: Path, results: Path | None = None):
    from grader import run

    args = ("-o", "python_files=" + " ".join(case.tests))
    return run.main(
        HW, make_submission(case, tmp), timeout=case.timeout, pytest_args=args, results=results
    )


def main() -> None:
    import tempfile

    from submissions import scores_by_item

    print("| case | attack | verdict |\n|---|---|---|")
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            result = grade(case, Path(tmp))
        scores = scores_by_item(result)
        lost = [t for t in result.tests if t.score < t.max_score]
        shown = lost[0].output.splitlines()[0][:90] if lost else "full marks"
        items = ", ".join(f"{i} {g:g}/{m:g}" for i, (g, m) in sorted(scores.items()))
        notes = "; ".join(result.notes)[:80]
        print(f"| {case.name} | {case.what} | {items or notes}: {shown} |", flush=True)


if __name__ == "__main__":
    main()

"""Generate a homework's student folder <hw>/ from its complete solution, solutions/<hw>/."""

import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from . import zip_release
from .bundle import Bundle, ReleaseError
from .check_markers import MarkerError, check_markers
from .clear_outputs import clear_outputs
from .compare_folders import compare_folders
from .copy_common import copy_common
from .copy_requirements import copy_requirements
from .copy_sources import copy_sources
from .strip_solutions import strip_solutions

__all__ = ["REPO", "STEPS", "MarkerError", "ReleaseError", "build", "collect", "homeworks", "main"]

REPO = Path(__file__).resolve().parent.parent.parent
Step = Callable[[Bundle], None]

# The release, in order: each step rewrites the files of one Bundle in memory; build() writes
# them to disk only after the last step, so a failing step leaves nothing half written.
STEPS: tuple[Step, ...] = (
    # First: every later step works on the files this one reads from solutions/<hw>/.
    copy_sources,
    # Before strip_solutions: every file is checked before any changes, markers in places that
    # are never stripped (markdown cells, prose) included, so a bad marker stops the release
    # with its file and line instead of shipping unstripped.
    check_markers,
    strip_solutions,
    # Anywhere after copy_sources: it changes only outputs and strip_solutions only sources.
    clear_outputs,
    # After check_markers and strip_solutions: the shared code is never parsed for markers nor
    # stubbed, so it ships byte for byte identical to <repo>/coursekit/.
    copy_common,
    # Likewise after check_markers and strip_solutions: <repo>/requirements-student.txt ships
    # as requirements.txt unchanged, and after copy_sources, so that a requirements.txt of the
    # homework's own is refused instead of silently replaced.
    copy_requirements,
)
REMEDY = "regenerate it with: python -m grader release {hw}"


def homeworks(repo: Path = REPO) -> list[str]:
    """The homeworks that can be released: the folders under solutions/."""
    found = (repo / "solutions").iterdir() if (repo / "solutions").is_dir() else []
    return sorted(p.name for p in found if p.is_dir() and not p.name.startswith((".", "_")))


def _check_homework(hw: str, repo: Path) -> None:
    known = homeworks(repo)
    if hw not in known:
        raise ReleaseError(
            f"unknown homework {hw!r}: solutions/ holds {', '.join(known) or 'no homework'}; "
            "pass one of these names"
        )


def _check_target(out: Path, repo: Path) -> None:
    """Refuse a target that overlaps solutions/ or that holds a git repository."""
    target, solutions = out.resolve(), (repo / "solutions").resolve()
    overlaps = target == solutions or solutions in target.parents or target in solutions.parents
    if overlaps or (target / ".git").exists():
        raise ReleaseError(
            f"refusing to write the release into {out}: it overlaps {solutions}, the source "
            "of truth, or holds a repository; pass a folder of its own such as <repo>/<hw>"
        )
    if target.exists() and not target.is_dir():
        raise ReleaseError(f"{out} is a file: pass a folder for the release")


def build(hw: str, out: Path, *, repo: Path = REPO) -> list[Path]:
    """Write the student folder of solutions/<hw> into `out`, which must be new or empty.

    Returns the written files, relative to `out`, sorted.
    """
    _check_homework(hw, repo)
    _check_target(out, repo)
    if out.is_dir() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: build() writes a fresh folder; use main()")
    files = collect(hw, repo=repo)
    out.mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return [Path(path) for path in files]


def collect(hw: str, *, repo: Path = REPO) -> dict[PurePosixPath, bytes]:
    """Run the release steps on solutions/<hw> in memory: {path in the release: bytes}, sorted."""
    _check_homework(hw, repo)
    bundle = Bundle(repo=repo, hw=hw)
    for step in STEPS:
        step(bundle)
    return dict(sorted(bundle.files.items()))


def _sibling(out: Path, role: str) -> Path:
    """A hidden, unused path next to `out`, such as <parent>/.<name>.new-1a2b3c4d."""
    return out.parent / f".{out.name}.{role}-{secrets.token_hex(4)}"


def _replace(hw: str, out: Path, repo: Path) -> list[Path]:
    """Build next to `out`, then swap the new folder in and delete the old one."""
    _check_homework(hw, repo)
    _check_target(out, repo)
    fresh = _sibling(out, "new")
    fresh.mkdir(parents=True)  # unlike mkdtemp, keeps the usual permissions
    try:
        written = build(hw, fresh, repo=repo)
        _swap(fresh, out)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)  # still there only if something failed
    return written


def _swap(fresh: Path, out: Path) -> None:
    """Move `fresh` to `out`, putting the previous `out` back if the move fails."""
    if not out.exists():
        fresh.rename(out)
        return
    old = _sibling(out, "old")
    out.rename(old)
    try:
        fresh.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old)


def _check(hw: str, out: Path, repo: Path) -> int:
    """Build into a temporary folder and report every file where `out` differs from it."""
    with tempfile.TemporaryDirectory(prefix=f"release-{hw}-") as tmp:
        build(hw, Path(tmp) / hw, repo=repo)
        drift = compare_folders(Path(tmp) / hw, out)
    for report in drift:
        print(report)
    if drift:
        files = f"{len(drift)} file" + ("s" if len(drift) > 1 else "")
        print(f"{out} has drifted from solutions/{hw} ({files}); " + REMEDY.format(hw=hw))
        return 1
    print(f"{out} matches the release of solutions/{hw}")
    return 0


def main(hw: str, *, out: Path | None = None, check: bool = False, repo: Path = REPO) -> int:
    """Release solutions/<hw> into `out` (default <repo>/<hw>); with `check`, only compare.

    An `out` ending in .zip gets a deterministic zip of the same files under <hw>/ instead.
    Returns 0 on success, 1 when `check` finds drift. Raises ReleaseError (MarkerError for a
    bad marker) when the homework is unknown or cannot be released.
    """
    out = repo / hw if out is None else Path(out)
    if out.suffix == ".zip":
        zip_release.check_zip_target(out, repo)
        return zip_release.write_release(hw, collect(hw, repo=repo), out, check)
    if check:
        return _check(hw, out, repo)
    written = _replace(hw, out, repo)
    print(f"wrote {len(written)} files to {out}")
    return 0

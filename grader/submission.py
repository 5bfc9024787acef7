"""Stage a submission (a folder or a .zip) on top of the trusted homework files."""

import io
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.homeworks import Homework

MAX_FILE_BYTES = 2 * 2**20  # a student source file is small; anything larger is refused
MAX_ZIP_BYTES = 64 * 2**20  # total uncompressed size of a zip that we agree to read


class SubmissionProblem(Exception):
    """The submission cannot be read at all (the message says why and what to do)."""


@dataclass
class Staged:
    """A staged submission: the folder the worker imports, and what we noticed on the way."""

    tree: Path
    found: dict = field(default_factory=dict)  # student file -> where it came from
    notes: list = field(default_factory=list)


def read_files(path: Path, skipped: list | None = None) -> dict[str, bytes]:
    """Every regular file of the submission as {posix relative path: bytes}.

    What is left out (links, oversized files, paths that leave the submission) is appended to
    `skipped` as "name: why".
    """
    path = Path(path)
    skipped = [] if skipped is None else skipped
    if not path.exists():
        raise SubmissionProblem(f"submission {path} does not exist: pass a folder or a .zip")
    if path.is_dir():
        files = {}
        for p in sorted(path.rglob("*")):
            name = p.relative_to(path).as_posix()
            if "__pycache__" in p.parts or (p.is_dir() and not p.is_symlink()):
                continue
            if p.is_symlink():
                skipped.append(f"{name}: a symbolic link")
            elif not p.is_file():
                skipped.append(f"{name}: not a regular file")
            elif p.stat().st_size > MAX_FILE_BYTES:
                skipped.append(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB")
            else:
                files[name] = p.read_bytes()
        return files | zipped_members(files, skipped)
    if zipfile.is_zipfile(path):
        try:
            return read_zip(path, skipped)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise SubmissionProblem(f"{path.name} is a damaged .zip ({exc}): zip it again") from exc
    raise SubmissionProblem(not_a_zip(path))


def zipped_members(files: dict[str, bytes], skipped: list) -> dict[str, bytes]:
    """The members of the .zip files a submitted folder holds, as "<zip path>/<member>".

    A folder that holds a zip (an upload of the zip beside other files, which Gradescope keeps
    zipped) is graded on the zip's files too; an exact path outside it still wins (`find`).
    """
    members = {}
    for name, data in files.items():
        if name.lower().endswith(".zip") and zipfile.is_zipfile(io.BytesIO(data)):
            try:
                inner = read_zip(io.BytesIO(data), skipped, name)
            except SubmissionProblem as exc:  # unpacks too large
                skipped.append(f"{name}: {exc}")
                continue
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
                skipped.append(f"{name}: a damaged .zip")
                continue
            members.update({f"{name}/{key}": value for key, value in inner.items()})
    return members


def not_a_zip(path: Path) -> str:
    """Why the file `path` cannot be read as a submission, and what to do about it."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        return f"{path.name} is empty (0 bytes): zip your files again and resubmit"
    if head in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):  # a zip whose end is missing
        return (
            f"{path.name} is a damaged .zip (cut short or corrupted, as when an upload or a copy "
            "is interrupted): zip your files again and resubmit"
        )
    return (
        f"{path.name} is neither a folder nor a .zip archive: submit your files in a folder "
        "or a .zip"
    )


def read_zip(path, skipped: list, label: str = "") -> dict[str, bytes]:
    """Members of a zip (a path, or a file object named `label`), refusing links, absolute or
    parent paths and oversized content."""
    files, total = {}, 0
    label = label or Path(path).name
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))  # some Windows tools use \\
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                skipped.append(f"{info.filename}: a symbolic link")
            elif name.is_absolute() or ".." in name.parts or ":" in name.parts[0]:
                skipped.append(f"{info.filename}: a path outside the submission")
            elif info.file_size > MAX_FILE_BYTES:
                skipped.append(f"{info.filename}: larger than {MAX_FILE_BYTES >> 20} MB")
            else:
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    raise SubmissionProblem(
                        f"{label} unpacks to over {MAX_ZIP_BYTES >> 20} MB: "
                        "submit only your source files"
                    )
                with zf.open(info) as member:  # reads at most the declared size
                    data = member.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    skipped.append(f"{info.filename}: larger than {MAX_FILE_BYTES >> 20} MB")
                    continue
                files[name.as_posix()] = data
    return files


# Never a student's file: macOS's resource forks (__MACOSX/, ._name), caches, editor autosaves.
NOT_SUBMITTED = ("__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git")
# A name as a browser or file manager gives to a second copy: "utils (1)", "utils - Copy", ...
COPY_SUFFIX = re.compile(r"\s*(\(\d+\)|-\s*copy(\s*\(\d+\))?|copy(\s+\d+)?|_copy)$", re.I)


@dataclass
class Found:
    """Where the submission holds a student file, and the other files that could have been it."""

    key: str | None  # the submitted path that is graded as the student file
    ignored: list = field(default_factory=list)  # other paths with the same name, not graded
    near: list = field(default_factory=list)  # when key is None: likely meant (Utils.py, ...)


def submitted(path: str) -> bool:
    """False for what a zip tool or an editor adds (__MACOSX/, ._utils.py, __pycache__/)."""
    parts = PurePosixPath(path).parts
    return not (any(p in NOT_SUBMITTED for p in parts) or parts[-1].startswith("._"))


def find(files: dict[str, bytes], wanted: str, aliases: dict | None = None) -> Found:
    """The submitted file to grade as `wanted`, among every file of that name.

    The path `wanted` itself wins; then the path sharing the longest tail of folders with it
    (`hw2/codebase/models/vae.py`, or XCS236's `src/submission/models/vae.py` when `aliases`
    maps submission to codebase, beat a stray `vae.py`); then the shallowest; then the first
    in alphabetical order. Without any file of that name, `near` lists near misses.
    """
    target = PurePosixPath(wanted).parts
    names = dict(aliases or {})

    def rank(key: str) -> tuple:
        parts = tuple(names.get(p, p) for p in PurePosixPath(key).parts[:-1])
        parts += (PurePosixPath(key).name,)
        tail = 0
        while tail < min(len(parts), len(target)) and parts[-1 - tail] == target[-1 - tail]:
            tail += 1
        return (parts != target, -tail, len(parts), key)

    same = sorted(
        (k for k in files if submitted(k) and PurePosixPath(k).name == target[-1]), key=rank
    )
    if not same:
        return Found(None, near=near_misses(files, target[-1]))
    return Found(same[0], ignored=same[1:])


def near_misses(files: dict[str, bytes], name: str) -> list[str]:
    """Submitted paths whose name is `name` in another case, as a copy, or with another suffix."""
    stem, suffix = PurePosixPath(name).stem.lower(), PurePosixPath(name).suffix.lower()
    found = []
    for key in files:
        other = PurePosixPath(key)
        other_stem = COPY_SUFFIX.sub("", other.stem).lower()
        if submitted(key) and other_stem == stem and (other.suffix.lower() in (suffix, ".ipynb")):
            found.append(key)
    return sorted(found, key=lambda k: (len(PurePosixPath(k).parts), k))


def match(files: dict[str, bytes], wanted: str, aliases: dict | None = None) -> str | None:
    """The submitted path graded as student file `wanted`, if any (see `find`)."""
    return find(files, wanted, aliases).key


def found_note(wanted: str, found: Found) -> str | None:
    """What the student should know about how `wanted` was found, or None when nothing."""
    name = PurePosixPath(wanted).name
    if found.key is not None and found.ignored:
        return (
            f"{wanted}: graded {found.key}, ignored {', '.join(found.ignored)}: "
            "submit only the copy you mean, at its place in the homework folder"
        )
    if found.key is not None:
        return None
    note = f"{wanted}: not in the submission, so the starter stub was graded"
    if not found.near:
        return note
    near = found.near[0]
    if near.lower().endswith(".ipynb"):
        return f"{note}; found {near}: a notebook is not graded, save its code as {name}"
    return f"{note}; found {near}: rename it to {name}"


def stage(hw: Homework, submission: Path, workdir: Path) -> Staged:
    """Copy the released homework into workdir/tree and put the student's files over it."""
    tree = Path(workdir) / "tree"
    shutil.copytree(hw.release, tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for source, dest in hw.reference_copies.items():
        (tree / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(hw.solution / source, tree / dest)
        (tree / dest).parent.joinpath("__init__.py").touch()
    staged = Staged(tree)
    skipped: list = []
    files = read_files(submission, skipped)
    staged.notes.extend(f"skipped {why}" for why in skipped)
    for wanted in hw.student_files:
        found = find(files, wanted, hw.aliases)
        note = found_note(wanted, found)
        if note is not None:
            staged.notes.append(note)
        if found.key is not None:
            (tree / wanted).write_bytes(files[found.key])
            staged.found[wanted] = found.key
    if not staged.found:
        staged.notes.append(
            "none of the expected files was found: submit " + ", ".join(hw.student_files)
        )
    return staged

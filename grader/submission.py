"""Stage a submission (a folder or a .zip) on top of the trusted homework files."""

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
        return files
    if zipfile.is_zipfile(path):
        try:
            return read_zip(path, skipped)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise SubmissionProblem(f"{path.name} is a damaged .zip ({exc}): zip it again") from exc
    raise SubmissionProblem(f"{path.name} is neither a folder nor a .zip archive")


def read_zip(path: Path, skipped: list) -> dict[str, bytes]:
    """Members of a zip, refusing links, absolute or parent paths and oversized content."""
    files, total = {}, 0
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
                        f"{path.name} unpacks to over {MAX_ZIP_BYTES >> 20} MB: "
                        "submit only your source files"
                    )
                with zf.open(info) as member:  # reads at most the declared size
                    data = member.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    skipped.append(f"{info.filename}: larger than {MAX_FILE_BYTES >> 20} MB")
                    continue
                files[name.as_posix()] = data
    return files


def match(files: dict[str, bytes], wanted: str) -> str | None:
    """The submitted path for student file `wanted`: same relative path, else a unique name."""
    for key in files:
        if key == wanted or key.endswith("/" + wanted):
            return key
    same_name = [k for k in files if PurePosixPath(k).name == PurePosixPath(wanted).name]
    return same_name[0] if len(same_name) == 1 else None


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
        key = match(files, wanted)
        if key is None:
            staged.notes.append(f"{wanted}: not in the submission, so the starter stub was graded")
            continue
        (tree / wanted).write_bytes(files[key])
        staged.found[wanted] = key
    if not staged.found:
        staged.notes.append(
            "none of the expected files was found: submit " + ", ".join(hw.student_files)
        )
    return staged

"""Pack a release as a .zip: every file under <hw>/, sorted, with fixed times and permissions."""

import io
import os
import secrets
import zipfile
from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath

from .bundle import ReleaseError

# The earliest time a zip can hold: no build time leaks in, so equal files give equal bytes.
EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE, EXECUTABLE_MODE = 0o644, 0o755
UNIX = 3  # ZipInfo.create_system: tells unzip to apply the permission bits in external_attr
REMEDY = "regenerate it with: python -m grader release {hw} --out {out}"


def zip_bytes(entries: Mapping[str, bytes], executable: Collection[str] = ()) -> bytes:
    """A zip of `entries` (path in the archive -> content); the same entries, the same bytes.

    Entries named in `executable` get mode 755, every other one 644.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.create_system = UNIX
            mode = EXECUTABLE_MODE if name in executable else FILE_MODE
            info.external_attr = (0o100000 | mode) << 16  # a regular file with these bits
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name], compresslevel=6)
    return buffer.getvalue()


def write_atomically(data: bytes, out: Path) -> None:
    """Write `out` through a hidden sibling, so a reader never sees half a zip."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.new-{secrets.token_hex(4)}"
    try:
        partial.write_bytes(data)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def check_zip_target(out: Path, repo: Path) -> None:
    """Refuse a .zip target inside solutions/ or one that is an existing folder."""
    target, solutions = out.resolve(), (repo / "solutions").resolve()
    if solutions in target.parents:
        raise ReleaseError(
            f"refusing to write the release into {out}, inside {solutions}, the source of "
            "truth; pass a path outside it"
        )
    if target.is_dir():
        raise ReleaseError(f"{out} is a folder: pass a file name ending in .zip")


def release_zip(hw: str, files: Mapping[PurePosixPath, bytes]) -> bytes:
    """The zip of a release's files, each under the top folder <hw>/."""
    return zip_bytes({f"{hw}/{path.as_posix()}": data for path, data in files.items()})


def write_release(hw: str, files: Mapping[PurePosixPath, bytes], out: Path, check: bool) -> int:
    """Write the release zip to `out`; with `check`, only say whether `out` already equals it.

    Returns 0 on success, 1 when `check` finds that `out` is missing or differs.
    """
    data = release_zip(hw, files)
    if not check:
        write_atomically(data, out)
        print(f"wrote {len(files)} files under {hw}/ to {out}")
        return 0
    if out.is_file() and out.read_bytes() == data:
        print(f"{out} matches the release of solutions/{hw}")
        return 0
    print(f"{out} differs from the release of solutions/{hw}; " + REMEDY.format(hw=hw, out=out))
    return 1

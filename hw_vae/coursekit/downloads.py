"""Where the data files live, and what torchvision.datasets does not do for us.

torchvision.datasets fetches MNIST and SVHN and checks their md5 (see data.py). This module
keeps the rest: the data root, the files torchvision does not know (binarized MNIST, the
course's SVHN subset) and the messages that say which file to put in which folder.

`FILES` is the table of those files: path under the data root, mirrors tried in order, and the
published checksum. A file may also be present as its "twin", the same content gzipped
(binarized MNIST's .amat.gz), and `ensure_file` accepts either. A download goes to a temporary
file in the target folder, is checked, and only then renamed into place, so a broken download
never leaves a file behind.
"""

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ENV_VAR = "VAECOURSE_DATA"
DEFAULT_ROOT = Path.home() / ".cache" / "vaecourse" / "data"

_BINARIZED_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
TIMEOUT_S = 60  # seconds one mirror may stay silent before the next is tried


class DataMissingError(FileNotFoundError):
    """A data file is absent and could not be downloaded; the message says where to put it."""


class ChecksumError(ValueError):
    """A data file does not have its published checksum; the message says what to do."""


@dataclass(frozen=True)
class Remote:
    """A canonical data file: the mirrors it is downloaded from and its published checksum."""

    relpath: str  # path under the data root, with "/" separators
    urls: tuple[str, ...]  # tried in order; empty when no public download exists
    algorithm: str  # a hashlib name: "md5" or "sha256"
    digest: str  # hex digest of the canonical file (of its content, for a .gz twin)
    twin: str | None = None  # the same content gzipped or gunzipped, accepted in its place


def _binarized(split: str, sha256: str) -> Remote:
    """The table entry of one binarized MNIST split; a gzipped copy is also accepted."""
    name = f"binarized_mnist_{split}.amat"
    return Remote(
        f"binarized_mnist/{name}",
        (_BINARIZED_URL + name,),
        "sha256",
        sha256,
        twin=f"binarized_mnist/{name}.gz",
    )


# MNIST and SVHN are not here: torchvision.datasets holds their mirrors and md5 checksums.
_ENTRIES = (
    _binarized("train", "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d"),
    _binarized("valid", "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2"),
    _binarized("test", "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c"),
    # The first 1083 training images of SVHN as one NHWC uint8 array, made by the course staff
    # for machines without the full files; it has no public download.
    Remote(
        "SVHN/svhn_train_first1083_X_nhwc_uint8.npy",
        (),
        "sha256",
        "ef7b0c516dd4c6c074be58c74c48874377b39c177a1474784505688669ffea92",
    ),
)
FILES: dict[str, Remote] = {entry.relpath: entry for entry in _ENTRIES}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: `root` if given, else $VAECOURSE_DATA, else ~/.cache/vaecourse/data."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return DEFAULT_ROOT


def lookup(relpath: str) -> Remote:
    """The table entry of `relpath`, which may be a canonical path or its twin."""
    for entry in FILES.values():
        if relpath in (entry.relpath, entry.twin):
            return entry
    raise KeyError(
        f"{relpath!r} is not a known data file; known: {', '.join(FILES)} "
        "(MNIST and SVHN files are fetched and checked by torchvision: use load_mnist, load_svhn)"
    )


def ensure_file(relpath: str, root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Path of `relpath` (or of its twin) under the data root, downloading it when missing.

    `relpath` itself is preferred, then its twin; a download always fetches the canonical file.
    Raises DataMissingError when the file is absent and cannot be downloaded, and
    ChecksumError when a downloaded file does not match the table.
    """
    entry, base = lookup(relpath), data_root(root)
    for candidate in (relpath, entry.relpath, entry.twin):
        if candidate is not None and (base / candidate).is_file():
            return base / candidate
    if not entry.urls:
        raise DataMissingError(_entry_missing(entry, base, "it has no public download"))
    if not download:
        raise DataMissingError(_entry_missing(entry, base, "downloading is switched off"))
    return _download(entry, base)


def verify(relpath: str, root: str | os.PathLike | None = None) -> bool:
    """Whether the present file `relpath` has the checksum of the table.

    A gzipped twin is checked on its decompressed content.
    """
    entry, path = lookup(relpath), data_root(root) / relpath
    if not path.is_file():
        raise DataMissingError(f"cannot verify {path}: the file does not exist")
    opener = gzip.open if relpath == entry.relpath + ".gz" else open  # a gzipped twin
    with opener(path, "rb") as stream:
        return _hash(stream, entry.algorithm) == entry.digest


def _hash(stream: BinaryIO, algorithm: str, sink: BinaryIO | None = None) -> str:
    """Hex digest of everything left in `stream`, copying it into `sink` on the way if given."""
    hasher = hashlib.new(algorithm)
    while chunk := stream.read(1 << 20):
        hasher.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return hasher.hexdigest()


def _download(entry: Remote, base: Path) -> Path:
    """Fetch `entry` from its first mirror that answers, check it, and move it into place."""
    target = base / entry.relpath
    if not writable(target.parent):
        raise DataMissingError(_entry_missing(entry, base, "its folder is not writable"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataMissingError(_entry_missing(entry, base, f"its folder cannot be made ({err})"))
    failures = []
    for url in entry.urls:
        try:
            return _fetch_checked(url, target, entry)
        except (OSError, http.client.HTTPException) as err:  # offline, HTTP error, timeout
            failures.append(f"{url}: {err}")
    reason = "downloading it failed (" + "; ".join(failures) + ")"
    raise DataMissingError(_entry_missing(entry, base, reason))


def writable(folder: Path) -> bool:
    """Whether files may be created in `folder`, or in its nearest existing parent.

    A folder with no write permission bit counts as read-only even for root (who could write
    there anyway): that is how shared, read-only copies of the data sets are marked.
    """
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)


def _fetch_checked(url: str, target: Path, entry: Remote) -> Path:
    """Download `url` into a temporary file beside `target`, check it, then rename it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as sink, urllib.request.urlopen(url, timeout=TIMEOUT_S) as src:
            actual = _hash(src, entry.algorithm, sink)
        if actual != entry.digest:
            raise ChecksumError(
                f"{target.name} downloaded from {url} has the wrong {entry.algorithm}: expected "
                f"{entry.digest}, got {actual}. The download was deleted; try again later, or "
                f"fetch the file by hand, check it and put it in {target.parent}."
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; data files are for every user
        os.replace(tmp, target)  # atomic: readers see no file or the whole checked file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def missing_message(
    names: Sequence[str], folder: Path, reason: str, source: str, holds: str
) -> str:
    """Why the files `names` are missing from `folder` (`reason`), and the remedy: which files to
    put in which folder and where to get them (`source`, e.g. "download URL"), or which data
    folder to point at instead (one that `holds` them)."""
    one = len(names) == 1
    listed = names[0] if one else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"{listed} {'is' if one else 'are'} missing from {folder} and {reason}. "
        f"To fix: {source} and put {'it' if one else 'them'} in {folder}, "
        f"or set {ENV_VAR} to a data folder that already holds {holds}."
    )


def _entry_missing(entry: Remote, base: Path, reason: str) -> str:
    """missing_message for one table entry, accepted as itself or as its twin."""
    target = base / entry.relpath
    name = target.name + (f" (or {Path(entry.twin).name})" if entry.twin else "")
    if entry.urls:
        source = f"download {entry.urls[0]}" + "".join(f" (or {u})" for u in entry.urls[1:])
    else:
        source = "copy it from a machine or course folder that has it"
    return missing_message([name], target.parent, reason, source, entry.relpath)

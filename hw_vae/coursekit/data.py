"""Data sets of every homework: MNIST and SVHN through torchvision.datasets, binarized MNIST
(.amat) and the course's SVHN subset (.npy) read here.

The data root is, in order: the `root` argument (a CLI flag), the VAECOURSE_DATA environment
variable, else ~/.cache/vaecourse/data. Files follow torchvision's layout, so a folder that
torchvision already filled works as is:

    ROOT/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    ROOT/binarized_mnist/binarized_mnist_{train,valid,test}.amat[.gz]
    ROOT/SVHN/{train,test,extra}_32x32.mat
    ROOT/SVHN/svhn_train_first1083_X_nhwc_uint8.npy   (a subset; no download exists)

A missing file is downloaded and checked against its published checksum: by torchvision for
MNIST and SVHN (whose md5 it also checks on every load), by downloads.py for binarized MNIST.
Nothing is written into a folder without write permission (a shared, read-only copy of the
data); where a file cannot be had, DataMissingError says which file to put in which folder.
torchvision is imported inside the two functions that use it: importing it takes about a
second, which every import of this module (and of the homeworks' code) would otherwise pay.
"""

import gzip
import http.client
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from coursekit.downloads import (
    DEFAULT_ROOT,
    ENV_VAR,
    ChecksumError,
    DataMissingError,
    data_root,
    ensure_file,
    missing_message,
    verify,
    writable,
)

if TYPE_CHECKING:
    from torchvision.datasets import SVHN

__all__ = [
    "ENV_VAR",
    "DEFAULT_ROOT",
    "DataMissingError",
    "ChecksumError",
    "data_root",
    "ensure_file",
    "verify",
    "load_mnist",
    "load_binarized_mnist",
    "load_svhn",
    "load_svhn_subset",
]

PathLike = str | os.PathLike
_WHITESPACE = b" \t\r\n"
# What a failed download raises inside torchvision: offline, HTTP error, timeout, bad checksum.
_FETCH_ERRORS = (RuntimeError, OSError, http.client.HTTPException)


def _read(path: Path) -> bytes:
    """The content of `path`, decompressed when its name ends in .gz."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _check_split(split: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming the valid choices unless `split` is one of them."""
    if split not in choices:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(choices)}")


def _one_line(err: BaseException) -> str:
    """An exception's message on one line (torchvision's download errors span several)."""
    return " ".join(str(err).split()) or type(err).__name__


def load_mnist(
    split: str, root: PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST `split` ('train' or 't10k'/'test'): images (N, 28, 28) uint8, labels (N,) int64.

    torchvision.datasets.MNIST reads the four raw IDX files in ROOT/MNIST/raw. Where only their
    .gz archives are there, the archives are checked (md5) and unpacked beside them, offline;
    with `download`, torchvision first fetches (and checks) the archives that are missing.
    """
    from torchvision.datasets import MNIST

    _check_split(split, ("train", "test", "t10k"))
    base = data_root(root)
    _unpack_mnist(base, download)
    mnist = MNIST(base, train=split == "train", download=False)  # reads the raw files only
    return mnist.data, mnist.targets


def _unpack_mnist(base: Path, download: bool) -> None:
    """Make sure the four raw IDX files are in base/MNIST/raw, writing only when one is not.

    A missing file is unpacked from its .gz archive when that has the published md5; with
    `download`, torchvision fetches the archives that are missing or damaged. Raises
    DataMissingError (with the remedy) when that cannot be done, and, offline, ChecksumError
    for a damaged archive.
    """
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import check_integrity, extract_archive

    raw = base / "MNIST" / "raw"
    missing = [
        (gz, md5) for gz, md5 in MNIST.resources if not (raw / gz.removesuffix(".gz")).is_file()
    ]
    if not missing:
        return
    absent = [gz for gz, _ in missing if not (raw / gz).is_file()]  # not even the archive

    def fail(reason: str) -> DataMissingError:
        names = [
            f"{gz.removesuffix('.gz')} (or {gz})" for gz in absent or [gz for gz, _ in missing]
        ]
        urls = [MNIST.mirrors[0] + gz for gz in absent or [gz for gz, _ in missing]]
        source = "download " + ", ".join(urls)
        source += "".join(f" (or the same files from {mirror})" for mirror in MNIST.mirrors[1:])
        return DataMissingError(missing_message(names, raw, reason, source, "MNIST/raw/"))

    if absent and not download:
        raise fail("downloading is switched off")
    if not writable(raw):
        raise fail("its folder is not writable" + ("" if absent else " (to unpack the .gz files)"))
    for gz, md5 in missing:  # unpack the archives that are here: no network needed
        if check_integrity(raw / gz, md5):
            extract_archive(str(raw / gz), str(raw))
        elif not download:
            raise ChecksumError(
                f"{raw / gz} does not have its published md5 {md5}: it is damaged (an "
                f"interrupted download?). To fix: delete it and run again with downloads on, "
                f"or download {MNIST.mirrors[0] + gz} and put it in {raw}."
            )
    if download and not all((raw / gz.removesuffix(".gz")).is_file() for gz, _ in missing):
        try:
            MNIST(base, download=True)  # fetches the rest, checks each md5, unpacks
        except _FETCH_ERRORS as err:
            for gz, md5 in missing:  # what a broken download left must not pass for an archive
                if (raw / gz).is_file() and not check_integrity(raw / gz, md5):
                    (raw / gz).unlink()
            raise fail(f"downloading failed ({_one_line(err)})") from err


def _parse_amat(data: bytes, name: str) -> np.ndarray:
    """Rows of 784 whitespace-separated '0'/'1' characters -> uint8 array (rows, 784).

    Works on the bytes as a whole with C-speed bytes methods (about 1 s for the 78 MB training
    split, far faster than np.loadtxt); blank lines are skipped.
    """
    digits = data.translate(None, _WHITESPACE)  # every value is one character
    stray = digits.translate(None, b"01")
    if stray:
        raise ValueError(f"{name}: unexpected character {stray[:1]!r}; values must be 0 or 1")
    if any(pair in data for pair in (b"00", b"01", b"10", b"11")):
        raise ValueError(f"{name}: values must be single 0/1 characters separated by spaces")
    counts = (len(line.translate(None, _WHITESPACE)) for line in data.split(b"\n"))
    for row, count in enumerate(c for c in counts if c):
        if count != 784:
            raise ValueError(f"{name}: row {row + 1} has {count} values, expected 784")
    if not digits:
        raise ValueError(f"{name}: the file holds no rows")
    return (np.frombuffer(digits, dtype=np.uint8) - ord("0")).reshape(-1, 784)


def load_binarized_mnist(
    split: str, root: PathLike | None = None, download: bool = True
) -> torch.Tensor:
    """Binarized MNIST `split` ('train', 'valid' or 'test') as uint8 0/1 pixels (N, 784).

    N is 50000 / 10000 / 10000. This is the fixed Bernoulli binarization of Larochelle & Murray;
    it carries no labels. Reads the .amat file, or the .amat.gz when only that is present.
    """
    _check_split(split, ("train", "valid", "test"))
    path = ensure_file(f"binarized_mnist/binarized_mnist_{split}.amat", root, download)
    return torch.from_numpy(_parse_amat(_read(path), path.name))


def load_svhn(
    split: str, root: PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """SVHN `split` ('train', 'test' or 'extra'): images (N, 32, 32, 3) uint8, labels (N,) int64.

    torchvision.datasets.SVHN checks the published md5 of ROOT/SVHN/<split>_32x32.mat, then
    reads X, (32, 32, 3, N) (height, width, channel, image), and y, (N, 1) with labels 1..10
    where 10 stands for the digit 0; here labels are the digits 0..9. With `download`, a
    missing or damaged file is fetched (and checked) first.
    """
    _check_split(split, ("train", "test", "extra"))
    dataset = _open_svhn(data_root(root) / "SVHN", split, download)
    x, labels = dataset.data, dataset.labels.reshape(-1)  # (N, 3, 32, 32) uint8, (N,) int64
    if x.dtype != np.uint8 or x.shape[1:] != (3, 32, 32) or len(x) != len(labels):
        raise ValueError(
            f"SVHN {split}: X must be uint8 (32, 32, 3, N) with N = {len(labels)} labels, "
            f"got {x.dtype} with images of shape {x.shape[1:]}"
        )
    if labels.min(initial=0) < 0 or labels.max(initial=9) > 9:
        raise ValueError(f"SVHN {split}: labels must lie in 1..10 (10 for the digit 0)")
    images = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)
    return torch.from_numpy(images), torch.from_numpy(labels)


def _open_svhn(folder: Path, split: str, download: bool) -> "SVHN":
    """torchvision's SVHN dataset of `split`, read from folder/<split>_32x32.mat.

    The course keeps SVHN's files in ROOT/SVHN, so that folder is torchvision's root. A damaged
    file is refused (ChecksumError) or, with `download`, replaced; a missing one is downloaded,
    or DataMissingError says where to put it. A failed download leaves no file behind.
    """
    from torchvision.datasets import SVHN

    url, filename, md5 = SVHN.split_list[split]
    path = folder / filename
    if path.is_file():
        try:
            return SVHN(folder, split)  # checks the md5, then reads the file
        except RuntimeError:  # torchvision's "not found or corrupted": the md5 differs
            if not (download and writable(folder)):
                raise ChecksumError(
                    f"{path} does not have the published md5 of {filename} ({md5}): it is "
                    f"damaged (an interrupted download?) or not the original file. To fix: "
                    f"delete it and run again with downloads on, or download {url} and put it "
                    f"in {folder}."
                ) from None
            path.unlink()  # replaced below, as torchvision would overwrite it
    if not download:
        raise _svhn_missing(url, path, "downloading is switched off")
    if not writable(folder):
        raise _svhn_missing(url, path, "its folder is not writable")
    try:
        return SVHN(folder, split, download=True)
    except _FETCH_ERRORS as err:
        downloaded = path.is_file()
        path.unlink(missing_ok=True)
        if isinstance(err, RuntimeError) and downloaded:  # torchvision's md5 check failed
            raise ChecksumError(
                f"{filename} downloaded from {url} does not have its published md5 {md5}. "
                f"The download was deleted; try again later, or fetch the file by hand, "
                f"check it and put it in {folder}."
            ) from err
        raise _svhn_missing(url, path, f"downloading it failed ({_one_line(err)})") from err


def _svhn_missing(url: str, path: Path, reason: str) -> DataMissingError:
    """The error for an SVHN file `path` that is not there: where to get it, where to put it."""
    message = missing_message(
        [path.name], path.parent, reason, f"download {url}", f"SVHN/{path.name}"
    )
    return DataMissingError(message)


def load_svhn_subset(root: PathLike | None = None) -> torch.Tensor:
    """The first 1083 training images of SVHN as uint8 (1083, 32, 32, 3), without labels.

    The course ships this file for machines without the full train_32x32.mat; it has no public
    download, so a missing file raises DataMissingError at once.
    """
    path = ensure_file("SVHN/svhn_train_first1083_X_nhwc_uint8.npy", root, download=False)
    images = np.load(path, allow_pickle=False)
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
        raise ValueError(
            f"{path}: expected uint8 (N, 32, 32, 3), got {images.dtype} {images.shape}"
        )
    return torch.from_numpy(images)

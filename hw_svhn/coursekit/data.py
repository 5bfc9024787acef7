"""Data sets of every homework: MNIST (IDX files), binarized MNIST (.amat) and SVHN (.mat).

The data root is, in order: the `root` argument (a CLI flag), the VAECOURSE_DATA environment
variable, else ~/.cache/vaecourse/data. Files follow torchvision's layout, so a folder that
torchvision already filled works as is:

    ROOT/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    ROOT/binarized_mnist/binarized_mnist_{train,valid,test}.amat[.gz]
    ROOT/SVHN/{train,test,extra}_32x32.mat
    ROOT/SVHN/svhn_train_first1083_X_nhwc_uint8.npy   (a subset; no download exists)

A missing file is downloaded and checked against its published checksum (see downloads.py);
where that is impossible, DataMissingError says which file to put in which folder.
"""

import gzip
import os
from pathlib import Path

import numpy as np
import scipy.io
import torch

from coursekit.downloads import (
    DEFAULT_ROOT,
    ENV_VAR,
    ChecksumError,
    DataMissingError,
    data_root,
    ensure_file,
    verify,
)

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


def _read(path: Path) -> bytes:
    """The content of `path`, decompressed when its name ends in .gz."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _check_split(split: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming the valid choices unless `split` is one of them."""
    if split not in choices:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(choices)}")


def _parse_idx(data: bytes) -> np.ndarray:
    """Parse an IDX file (big-endian header: 0, 0, type 0x08, ndim, then ndim uint32 sizes)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(
    split: str, root: PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST `split` ('train' or 't10k'/'test'): images (N, 28, 28) uint8, labels (N,) int64.

    Reads the raw IDX files or their .gz archives; with `download`, fetches missing archives.
    """
    _check_split(split, ("train", "test", "t10k"))
    prefix = "train" if split == "train" else "t10k"
    arrays = []
    for kind in ("images-idx3", "labels-idx1"):
        # Ask for the raw file, which reads fastest; ensure_file falls back to the .gz twin.
        path = ensure_file(f"MNIST/raw/{prefix}-{kind}-ubyte", root, download)
        arrays.append(_parse_idx(_read(path)))
    images, labels = arrays
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


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

    The .mat file holds X as (32, 32, 3, N) (height, width, channel, image) and y as (N, 1)
    with labels 1..10, where 10 stands for the digit 0; here labels are the digits 0..9.
    """
    _check_split(split, ("train", "test", "extra"))
    path = ensure_file(f"SVHN/{split}_32x32.mat", root, download)
    mat = scipy.io.loadmat(path)
    x, y = mat["X"], mat["y"].reshape(-1)
    if x.dtype != np.uint8 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise ValueError(
            f"{path}: X must be uint8 (32, 32, 3, N) with N = {len(y)} labels, "
            f"got {x.dtype} {x.shape}"
        )
    if y.min(initial=1) < 1 or y.max(initial=10) > 10:
        raise ValueError(f"{path}: labels must lie in 1..10, got {y.min()}..{y.max()}")
    images = np.ascontiguousarray(x.transpose(3, 0, 1, 2))  # (N, 32, 32, 3)
    labels = np.where(y == 10, 0, y).astype(np.int64)  # (N,)
    return torch.from_numpy(images), torch.from_numpy(labels)


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

"""Data sets of every homework: MNIST (IDX files), binarized MNIST (.amat) and SVHN (.mat).

The data root is, in order: the `root` argument (a CLI flag), the VAECOURSE_DATA environment
variable, else ~/.cache/vaecourse/data. Files follow torchvision's layout, so a folder that
torchvision already filled works as is:

    ROOT/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
"""
import gzip
import os
from pathlib import Path

import numpy as np
import torch

ENV_VAR = "VAECOURSE_DATA"
DEFAULT_ROOT = Path.home() / ".cache" / "vaecourse" / "data"


class DataMissingError(FileNotFoundError):
    """A data file is absent and could not be downloaded; the message says where to put it."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: `root` if given, else $VAECOURSE_DATA, else ~/.cache/vaecourse/data."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return DEFAULT_ROOT


def _read_maybe_gz(path: Path) -> bytes:
    """Bytes of `path`, or of `path`.gz decompressed when only the archive is there."""
    if path.exists():
        return path.read_bytes()
    gz = path.with_name(path.name + ".gz")
    if gz.exists():
        return gzip.decompress(gz.read_bytes())
    raise DataMissingError(
        f"missing {path.name} (or {gz.name}): put it in {path.parent}, or set {ENV_VAR} "
        "to a folder that holds MNIST/raw/"
    )


def _parse_idx(data: bytes) -> np.ndarray:
    """Parse an IDX file (big-endian header: 0, 0, type 0x08, ndim, then ndim uint32 sizes)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(split: str, root: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST `split` ('train' or 't10k'/'test'): images (N, 28, 28) uint8, labels (N,) int64."""
    prefix = {"train": "train", "test": "t10k", "t10k": "t10k"}[split]
    raw = data_root(root) / "MNIST" / "raw"
    images = _parse_idx(_read_maybe_gz(raw / f"{prefix}-images-idx3-ubyte"))
    labels = _parse_idx(_read_maybe_gz(raw / f"{prefix}-labels-idx1-ubyte"))
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))

"""SVHN .mat files written by the tests, in the real format, and accepted by torchvision.

torchvision.datasets.SVHN checks every file against the md5 of the real one, so a test file is
refused unless the test gives torchvision its md5 (for the length of the test only).
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from torchvision.datasets import SVHN


def write_svhn_mat(
    path: Path, x: np.ndarray, y: np.ndarray, monkeypatch: pytest.MonkeyPatch | None = None
) -> None:
    """Write X (32, 32, 3, N) uint8 and y (N, 1) labels 1..10 (10 is the digit 0) to `path`,
    a <split>_32x32.mat; with `monkeypatch`, make its md5 the one torchvision expects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": x, "y": y.reshape(-1, 1)})
    if monkeypatch is not None:
        accept_svhn_file(path, monkeypatch)


def accept_svhn_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torchvision expect the md5 of `path` for its split (named by the file)."""
    split = path.name.removesuffix("_32x32.mat")
    url, filename, _ = SVHN.split_list[split]
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(SVHN.split_list, split, [url, filename, md5])

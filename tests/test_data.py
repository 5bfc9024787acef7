"""Tests of coursekit.data and coursekit.downloads: the real data sets, small files written here,
and downloads served from file:// URLs (no test reaches the network or writes into the data)."""

import dataclasses
import gzip
import hashlib
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from coursekit import data, downloads
from coursekit.data import (
    ChecksumError,
    DataMissingError,
    ensure_file,
    load_binarized_mnist,
    load_mnist,
    load_svhn,
    load_svhn_subset,
    verify,
)

# Numbers and checksums copied from the data folder's README.
MNIST_LABEL_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
BINARIZED = {"train": (50000, 0.1306), "valid": (10000, 0.1311), "test": (10000, 0.1325)}
SUBSET = "SVHN/svhn_train_first1083_X_nhwc_uint8.npy"
SUBSET_SHA256 = "ef7b0c516dd4c6c074be58c74c48874377b39c177a1474784505688669ffea92"
TEST_AMAT = "binarized_mnist/binarized_mnist_test.amat"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let urllib open file:// URLs only, so that a test that tries the network fails loudly."""
    real_urlopen = urllib.request.urlopen

    def file_only(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise AssertionError(f"a test tried to reach the network: {url}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", file_only)


@pytest.fixture(scope="module")
def binarized(data_root: Path) -> dict[str, torch.Tensor]:
    """The three real binarized MNIST splits, read once for the module."""
    return {split: load_binarized_mnist(split, data_root) for split in BINARIZED}


def _amat_text(rows: np.ndarray) -> bytes:
    """Rows of 0/1 pixels in the canonical .amat format: space-separated, one row per line."""
    return b"".join(b" ".join(b"01"[v : v + 1] for v in row) + b"\n" for row in rows)


def _serve(
    monkeypatch: pytest.MonkeyPatch, relpath: str, urls: list[Path | str], digest: str | None = None
) -> None:
    """Point the table entry of `relpath` at local files (and optionally another checksum)."""
    entry = downloads.FILES[relpath]
    uris = tuple(u.as_uri() if isinstance(u, Path) else u for u in urls)
    changed = dataclasses.replace(entry, urls=uris, digest=digest or entry.digest)
    monkeypatch.setitem(downloads.FILES, relpath, changed)


def _refuse(*args, **kwargs):
    """Stand-in for urlopen in tests where no URL may be opened at all."""
    raise AssertionError("urlopen was called")


def _write_svhn_mat(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write an SVHN-style .mat file: X (32, 32, 3, N) uint8 and y (N, 1) labels 1..10."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": x, "y": y.reshape(-1, 1)})


# ------------------------------------------------------------------------------------- MNIST


@pytest.mark.parametrize("split,n", [("train", 60000), ("test", 10000)])
def test_mnist_shapes_dtypes_and_label_counts(data_root: Path, split: str, n: int) -> None:
    """Does each MNIST split have the README's size, dtypes and per-digit label counts?"""
    images, labels = load_mnist(split, data_root)
    assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (n,) and labels.dtype == torch.int64
    assert torch.bincount(labels, minlength=10).tolist() == MNIST_LABEL_COUNTS[split]


def test_mnist_gz_only_folder_gives_the_same_arrays(data_root: Path, tmp_path: Path) -> None:
    """Does a folder holding only the .gz files give the same arrays as the raw IDX files?"""
    raw = data_root / "MNIST" / "raw"
    assert (raw / "t10k-images-idx3-ubyte").exists(), "the real folder should hold raw files"
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    for gz in raw.glob("*.gz"):
        shutil.copy(gz, tmp_path / "MNIST" / "raw" / gz.name)
    for split in ("train", "test"):
        for from_raw, from_gz in zip(load_mnist(split, data_root), load_mnist(split, tmp_path)):
            assert torch.equal(from_raw, from_gz)


def test_verify_mnist_archives(data_root: Path) -> None:
    """Do the real MNIST .gz files pass verify(), while a raw file, with no checksum, is refused?"""
    for relpath in downloads.FILES:
        if relpath.startswith("MNIST/"):
            assert verify(relpath, data_root), relpath
    with pytest.raises(ValueError, match="no published checksum"):
        verify("MNIST/raw/t10k-labels-idx1-ubyte", data_root)


# ---------------------------------------------------------------------------- binarized MNIST


@pytest.mark.parametrize("split", list(BINARIZED))
def test_binarized_shape_values_and_mean(binarized: dict[str, torch.Tensor], split: str) -> None:
    """Does each binarized split have its size, only 0/1 values and the published mean pixel?"""
    n, mean = BINARIZED[split]
    x = binarized[split]
    assert x.shape == (n, 784) and x.dtype == torch.uint8
    assert x.min() == 0 and x.max() == 1
    assert round(x.sum(dtype=torch.int64).item() / x.numel(), 4) == mean


def test_binarized_plain_amat_equals_gz(
    binarized: dict[str, torch.Tensor], data_root: Path, tmp_path: Path
) -> None:
    """Does a plain .amat file give the same tensor as the real .amat.gz it was gunzipped from?"""
    gz = data_root / (TEST_AMAT + ".gz")
    (tmp_path / "binarized_mnist").mkdir()
    (tmp_path / TEST_AMAT).write_bytes(gzip.decompress(gz.read_bytes()))
    assert torch.equal(load_binarized_mnist("test", tmp_path), binarized["test"])
    assert verify(TEST_AMAT, tmp_path)


@pytest.mark.parametrize("split", list(BINARIZED))
def test_verify_binarized_real_files(data_root: Path, split: str) -> None:
    """Does the decompressed content of each real .amat.gz have the canonical sha256?"""
    assert verify(f"binarized_mnist/binarized_mnist_{split}.amat.gz", data_root)


_GOOD_ROW = _amat_text(np.zeros((1, 784), np.uint8))


@pytest.mark.parametrize(
    "text,message",
    [
        (_GOOD_ROW + b"0 1\n" + _GOOD_ROW, "row 2 has 2 values"),
        (_GOOD_ROW + _GOOD_ROW.replace(b"0", b"2", 1), "unexpected character"),
        (b"01 " * 392 + b"\n", "single 0/1 characters"),
        (b"\n \n", "no rows"),
    ],
)
def test_malformed_amat_is_rejected(tmp_path: Path, text: bytes, message: str) -> None:
    """Is an .amat file with a short row, a stray character, glued values or no rows refused?"""
    (tmp_path / "binarized_mnist").mkdir()
    (tmp_path / TEST_AMAT).write_bytes(text)
    with pytest.raises(ValueError, match=message):
        load_binarized_mnist("test", tmp_path, download=False)


# -------------------------------------------------------------------------------------- SVHN


@pytest.mark.parametrize("split", ["train", "test", "extra"])
@pytest.mark.parametrize("label_dtype", [np.uint8, np.float64])
def test_svhn_mat_layout_and_labels(tmp_path: Path, split: str, label_dtype: type) -> None:
    """Does load_svhn turn X (32, 32, 3, N) into NHWC images and the label 10 into the digit 0?"""
    x = np.zeros((32, 32, 3, 5), np.uint8)
    x[3, 7, 2, 4] = 201  # image 4, row 3, column 7, blue
    y = np.array([10, 1, 2, 9, 10], dtype=label_dtype)
    _write_svhn_mat(tmp_path / "SVHN" / f"{split}_32x32.mat", x, y)
    images, labels = load_svhn(split, tmp_path, download=False)
    assert images.shape == (5, 32, 32, 3) and images.dtype == torch.uint8
    assert images[4, 3, 7, 2] == 201 and images.sum() == 201
    assert labels.dtype == torch.int64 and labels.tolist() == [0, 1, 2, 9, 0]


def test_svhn_bad_labels_are_rejected(tmp_path: Path) -> None:
    """Is a .mat file with a label outside 1..10 refused with a clear error?"""
    _write_svhn_mat(
        tmp_path / "SVHN" / "test_32x32.mat",
        np.zeros((32, 32, 3, 2), np.uint8),
        np.array([0, 3], np.uint8),
    )
    with pytest.raises(ValueError, match="1..10"):
        load_svhn("test", tmp_path, download=False)


def test_svhn_subset_shape_and_checksum(data_root: Path) -> None:
    """Is the real SVHN subset (1083, 32, 32, 3) uint8, with the README's sha256?"""
    images = load_svhn_subset(data_root)
    assert images.shape == (1083, 32, 32, 3) and images.dtype == torch.uint8
    assert hashlib.sha256((data_root / SUBSET).read_bytes()).hexdigest() == SUBSET_SHA256
    assert verify(SUBSET, data_root)


def test_svhn_subset_missing_says_no_download(tmp_path: Path) -> None:
    """Does a missing SVHN subset raise DataMissingError saying that no download exists?"""
    with pytest.raises(DataMissingError, match="no public download"):
        load_svhn_subset(tmp_path)


# ------------------------------------------------------------------------ downloads (offline)


def test_download_with_good_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a download with the right checksum land in the data folder, load, and leave no
    temporary file behind?"""
    rows = np.random.default_rng(0).integers(0, 2, (3, 784), dtype=np.uint8)
    source = tmp_path / "mirror" / "binarized_mnist_test.amat"
    source.parent.mkdir()
    source.write_bytes(_amat_text(rows))
    _serve(monkeypatch, TEST_AMAT, [source], hashlib.sha256(source.read_bytes()).hexdigest())
    x = load_binarized_mnist("test", tmp_path / "data")
    assert torch.equal(x, torch.from_numpy(rows))
    folder = tmp_path / "data" / "binarized_mnist"
    assert [p.name for p in folder.iterdir()] == ["binarized_mnist_test.amat"]


def test_download_falls_back_to_next_mirror(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the second mirror used when the first one fails, with the table's real md5?"""
    name = "t10k-labels-idx1-ubyte.gz"
    shutil.copy(data_root / "MNIST" / "raw" / name, tmp_path / name)
    _serve(monkeypatch, f"MNIST/raw/{name}", [tmp_path / "gone" / name, tmp_path / name])
    path = ensure_file("MNIST/raw/t10k-labels-idx1-ubyte", tmp_path / "data")
    assert path == tmp_path / "data" / "MNIST" / "raw" / name
    assert verify(f"MNIST/raw/{name}", tmp_path / "data")


def test_download_with_bad_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a checksum mismatch raise an error naming the file and both checksums, and delete
    the download?"""
    source = tmp_path / "binarized_mnist_test.amat"
    source.write_bytes(_amat_text(np.zeros((1, 784), np.uint8)))
    actual = hashlib.sha256(source.read_bytes()).hexdigest()
    _serve(monkeypatch, TEST_AMAT, [source], "0" * 64)
    with pytest.raises(ChecksumError) as caught:
        ensure_file(TEST_AMAT, tmp_path / "data")
    for part in ("binarized_mnist_test.amat", "0" * 64, actual):
        assert part in str(caught.value)
    assert list((tmp_path / "data" / "binarized_mnist").iterdir()) == []


def test_unreachable_url_says_what_to_put_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a failed download raise DataMissingError naming the folder, the file and the URL?"""
    url = (tmp_path / "nowhere" / "binarized_mnist_test.amat").as_uri()
    _serve(monkeypatch, TEST_AMAT, [url])
    with pytest.raises(DataMissingError) as caught:
        load_binarized_mnist("test", tmp_path / "data")
    message = str(caught.value)
    for part in (
        str(tmp_path / "data" / "binarized_mnist"),
        "binarized_mnist_test.amat",
        url,
        data.ENV_VAR,
    ):
        assert part in message
    assert list((tmp_path / "data" / "binarized_mnist").iterdir()) == []


def test_download_off_never_touches_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With download=False, does a missing file raise DataMissingError without opening a URL?"""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    with pytest.raises(DataMissingError) as caught:
        load_mnist("test", tmp_path, download=False)
    message = str(caught.value)
    assert "ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "MNIST" / "raw") in message and data.ENV_VAR in message
    assert not (tmp_path / "MNIST").exists()


@pytest.mark.parametrize("parent", ["binarized_mnist", "."])
def test_read_only_folder_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parent: str
) -> None:
    """Is a read-only data folder (even for root) reported as DataMissingError before any
    download, whether the file's own folder or only a parent of it exists?"""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    folder = tmp_path / parent
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    try:
        with pytest.raises(DataMissingError, match="not writable"):
            ensure_file(TEST_AMAT, tmp_path)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_data_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the root argument beat $VAECOURSE_DATA, which beats the default folder?"""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    assert data.data_root() == data.DEFAULT_ROOT
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"


def test_table_is_well_formed() -> None:
    """Does every table entry name a hashlib algorithm with a hex digest of its length?"""
    for relpath, entry in downloads.FILES.items():
        assert relpath == entry.relpath
        assert len(entry.digest) == hashlib.new(entry.algorithm).digest_size * 2
        int(entry.digest, 16)
    mnist = downloads.FILES["MNIST/raw/train-images-idx3-ubyte.gz"]
    assert mnist.urls[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/")

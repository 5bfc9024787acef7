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
import torch
from svhn_files import write_svhn_mat
from torchvision.datasets import MNIST, SVHN
from torchvision.datasets.utils import check_integrity

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
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SVHN_MD5 = {
    "train": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test": "eb5a983be6a315427106f1b164d9cef3",
    "extra": "a93ce644f1a588dc4d68dda5feec44a7",
}
BINARIZED = {"train": (50000, 0.1306), "valid": (10000, 0.1311), "test": (10000, 0.1325)}
SUBSET = "SVHN/svhn_train_first1083_X_nhwc_uint8.npy"
SUBSET_SHA256 = "ef7b0c516dd4c6c074be58c74c48874377b39c177a1474784505688669ffea92"
TEST_AMAT = "binarized_mnist/binarized_mnist_test.amat"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let urllib open file:// URLs only, so that a test that tries the network fails loudly.

    A file response gets the `length` of an HTTP one, which torchvision's downloader reads."""
    real_urlopen = urllib.request.urlopen

    def file_only(url, *args, **kwargs):
        address = url.full_url if isinstance(url, urllib.request.Request) else str(url)
        if not address.startswith("file:"):
            raise AssertionError(f"a test tried to reach the network: {address}")
        response = real_urlopen(url, *args, **kwargs)
        response.length = int(response.headers["Content-length"])
        return response

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


def _mirror(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """Make torchvision fetch MNIST from these local folders, in this order."""
    monkeypatch.setattr(MNIST, "mirrors", [folder.as_uri() + "/" for folder in folders])


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder`: relative path -> (size, modification time)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


# ------------------------------------------------------------------------------------- MNIST


@pytest.mark.parametrize("split,n", [("train", 60000), ("test", 10000)])
def test_mnist_shapes_dtypes_and_label_counts(data_root: Path, split: str, n: int) -> None:
    """Does each MNIST split have the README's size, dtypes and per-digit label counts?"""
    images, labels = load_mnist(split, data_root)
    assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (n,) and labels.dtype == torch.int64
    assert torch.bincount(labels, minlength=10).tolist() == MNIST_LABEL_COUNTS[split]


def test_mnist_gz_only_folder_gives_the_same_arrays(data_root: Path, tmp_path: Path) -> None:
    """Does a folder holding only the .gz files give the same arrays as the raw IDX files,
    offline, by unpacking them beside the archives?"""
    raw = data_root / "MNIST" / "raw"
    assert (raw / "t10k-images-idx3-ubyte").exists(), "the real folder should hold raw files"
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    for gz in raw.glob("*.gz"):
        shutil.copy(gz, tmp_path / "MNIST" / "raw" / gz.name)
    for split in ("train", "test"):
        from_raw, from_gz = load_mnist(split, data_root), load_mnist(split, tmp_path, False)
        for a, b in zip(from_raw, from_gz, strict=True):
            assert a.dtype == b.dtype and torch.equal(a, b)
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(
        [gz.removesuffix(".gz") for gz in MNIST_MD5] + list(MNIST_MD5)
    )


def test_real_mnist_archives_have_the_published_md5(data_root: Path) -> None:
    """Do the real MNIST .gz files have the README's md5, which torchvision checks them with?"""
    assert dict(MNIST.resources) == MNIST_MD5
    for gz, md5 in MNIST_MD5.items():
        assert check_integrity(data_root / "MNIST" / "raw" / gz, md5), gz


def test_damaged_mnist_archive_is_refused_offline(data_root: Path, tmp_path: Path) -> None:
    """Offline, is a damaged .gz archive refused with a ChecksumError naming it and its md5,
    without being unpacked?"""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in MNIST_MD5:
        shutil.copy(data_root / "MNIST" / "raw" / gz, raw / gz)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x01" + b"\0" * 8))
    with pytest.raises(ChecksumError) as caught:
        load_mnist("test", tmp_path, download=False)
    for part in (str(raw / "t10k-labels-idx1-ubyte.gz"), MNIST_MD5["t10k-labels-idx1-ubyte.gz"]):
        assert part in str(caught.value)
    assert not (raw / "t10k-labels-idx1-ubyte").exists()


def test_mnist_download_checks_and_falls_back_to_next_mirror(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does torchvision's download, from the second mirror when the first fails, check the real
    md5s and give the same arrays as the real data?"""
    (tmp_path / "mirror").mkdir()
    for gz in MNIST_MD5:
        shutil.copy(data_root / "MNIST" / "raw" / gz, tmp_path / "mirror" / gz)
    _mirror(monkeypatch, tmp_path / "gone", tmp_path / "mirror")
    for a, b in zip(load_mnist("test", tmp_path / "data"), load_mnist("test", data_root)):
        assert torch.equal(a, b)
    for gz, md5 in MNIST_MD5.items():
        assert check_integrity(tmp_path / "data" / "MNIST" / "raw" / gz, md5)


def test_mnist_download_with_bad_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a mirror's file with the wrong md5 refused with DataMissingError that says so, and
    deleted?"""
    (tmp_path / "mirror").mkdir()
    for gz in MNIST_MD5:
        (tmp_path / "mirror" / gz).write_bytes(gzip.compress(b"not MNIST"))
    _mirror(monkeypatch, tmp_path / "mirror")
    with pytest.raises(DataMissingError, match="corrupted") as caught:
        load_mnist("test", tmp_path / "data")
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert "downloading failed" in str(caught.value) and str(raw) in str(caught.value)
    assert list(raw.iterdir()) == []


def test_mnist_unreachable_mirrors_say_what_to_put_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every mirror fails, does DataMissingError name the folder, the files, their real
    addresses and the environment variable?"""
    _mirror(monkeypatch, tmp_path / "gone", tmp_path / "also-gone")
    with pytest.raises(DataMissingError) as caught:
        load_mnist("train", tmp_path / "data")
    message = str(caught.value)
    for part in (
        str(tmp_path / "data" / "MNIST" / "raw"),
        "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz)",
        (tmp_path / "gone").as_uri() + "/t10k-labels-idx1-ubyte.gz",
        "downloading failed",
        data.ENV_VAR,
    ):
        assert part in message


def test_download_off_never_touches_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With download=False, does a missing file raise DataMissingError without opening a URL,
    naming the address to download it from?"""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    with pytest.raises(DataMissingError) as caught:
        load_mnist("test", tmp_path, download=False)
    message = str(caught.value)
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz" in message
    assert "http://yann.lecun.com/exdb/mnist/" in message and "switched off" in message
    assert str(tmp_path / "MNIST" / "raw") in message and data.ENV_VAR in message
    assert not (tmp_path / "MNIST").exists()


def test_read_only_gz_folder_is_reported(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is a read-only folder holding only the .gz archives (even for root) reported as
    DataMissingError, with nothing written into it?"""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    shutil.copy(data_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz", raw)
    raw.chmod(0o555)
    try:
        with pytest.raises(DataMissingError, match="not writable"):
            load_mnist("test", tmp_path)
        assert [p.name for p in raw.iterdir()] == ["t10k-labels-idx1-ubyte.gz"]
    finally:
        raw.chmod(0o755)


def test_real_data_folder_is_never_written(data_root: Path) -> None:
    """With downloads on, does loading every data set from the read-only data folder leave it
    untouched, and is a missing SVHN file there reported instead of fetched?"""
    before = _files(data_root)
    for split in ("train", "test"):
        load_mnist(split, data_root, download=True)
    load_binarized_mnist("test", data_root, download=True)
    load_svhn_subset(data_root)
    svhn = data_root / "SVHN" / "test_32x32.mat"
    if svhn.exists():
        load_svhn("test", data_root, download=True)
    elif not downloads.writable(svhn.parent):  # the shared copy: reported, not fetched
        with pytest.raises(DataMissingError, match="not writable"):
            load_svhn("test", data_root, download=True)
    assert _files(data_root) == before


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
def test_svhn_mat_layout_and_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split: str, label_dtype: type
) -> None:
    """Does load_svhn turn X (32, 32, 3, N) into NHWC images and the label 10 into the digit 0?"""
    x = np.zeros((32, 32, 3, 5), np.uint8)
    x[3, 7, 2, 4] = 201  # image 4, row 3, column 7, blue
    y = np.array([10, 1, 2, 9, 10], dtype=label_dtype)
    write_svhn_mat(tmp_path / "SVHN" / f"{split}_32x32.mat", x, y, monkeypatch)
    images, labels = load_svhn(split, tmp_path, download=False)
    assert images.shape == (5, 32, 32, 3) and images.dtype == torch.uint8
    assert images.is_contiguous()
    assert images[4, 3, 7, 2] == 201 and images.sum() == 201
    assert labels.shape == (5,) and labels.dtype == torch.int64
    assert labels.tolist() == [0, 1, 2, 9, 0]


def test_svhn_single_image_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a .mat file of one image still give images (1, 32, 32, 3) and labels (1,)?"""
    write_svhn_mat(
        tmp_path / "SVHN" / "test_32x32.mat",
        np.full((32, 32, 3, 1), 7, np.uint8),
        np.array([3], np.uint8),
        monkeypatch,
    )
    images, labels = load_svhn("test", tmp_path, download=False)
    assert images.shape == (1, 32, 32, 3) and labels.tolist() == [3]


def test_svhn_bad_labels_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a .mat file with a label above 10 refused with a clear error?"""
    write_svhn_mat(
        tmp_path / "SVHN" / "test_32x32.mat",
        np.zeros((32, 32, 3, 2), np.uint8),
        np.array([11, 3], np.uint8),
        monkeypatch,
    )
    with pytest.raises(ValueError, match="1..10"):
        load_svhn("test", tmp_path, download=False)


def test_svhn_published_md5s() -> None:
    """Does torchvision check the SVHN files against the README's published md5s?"""
    assert {split: md5 for split, (_, _, md5) in SVHN.split_list.items()} == SVHN_MD5


def test_svhn_file_with_wrong_md5_is_refused(tmp_path: Path) -> None:
    """Offline, is a .mat file that is not the published one refused with ChecksumError
    naming the file, its md5 and where to get it, and kept?"""
    path = tmp_path / "SVHN" / "test_32x32.mat"
    write_svhn_mat(path, np.zeros((32, 32, 3, 2), np.uint8), np.array([1, 2], np.uint8))
    with pytest.raises(ChecksumError) as caught:
        load_svhn("test", tmp_path, download=False)
    for part in (str(path), SVHN_MD5["test"], "http://ufldl.stanford.edu/housenumbers/"):
        assert part in str(caught.value)
    assert path.exists()


def test_svhn_missing_offline_says_what_to_put_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With download=False, does a missing .mat file raise DataMissingError naming the file,
    the SVHN folder, its address and the environment variable, without opening a URL?"""
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    with pytest.raises(DataMissingError) as caught:
        load_svhn("train", tmp_path, download=False)
    message = str(caught.value)
    for part in (
        f"train_32x32.mat is missing from {tmp_path / 'SVHN'}",
        "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
        data.ENV_VAR,
    ):
        assert part in message
    assert not (tmp_path / "SVHN").exists()


def _serve_svhn(monkeypatch: pytest.MonkeyPatch, split: str, source: Path, md5: str) -> None:
    """Make torchvision fetch SVHN's `split` from the local file `source`, expecting `md5`."""
    _, filename, _ = SVHN.split_list[split]
    monkeypatch.setitem(SVHN.split_list, split, [source.as_uri(), filename, md5])


def test_svhn_download_lands_in_the_svhn_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a download with the right md5 land in ROOT/SVHN/ and load?"""
    source = tmp_path / "mirror" / "test_32x32.mat"
    write_svhn_mat(source, np.full((32, 32, 3, 3), 9, np.uint8), np.array([1, 10, 5], np.uint8))
    _serve_svhn(monkeypatch, "test", source, hashlib.md5(source.read_bytes()).hexdigest())
    images, labels = load_svhn("test", tmp_path / "data")
    assert images.shape == (3, 32, 32, 3) and labels.tolist() == [1, 0, 5]
    assert [p.name for p in (tmp_path / "data" / "SVHN").iterdir()] == ["test_32x32.mat"]


def test_svhn_download_with_bad_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a download with the wrong md5 raise ChecksumError naming the file, the address and
    the md5, and delete the download?"""
    source = tmp_path / "mirror" / "test_32x32.mat"
    write_svhn_mat(source, np.zeros((32, 32, 3, 1), np.uint8), np.array([1], np.uint8))
    _serve_svhn(monkeypatch, "test", source, "0" * 32)
    with pytest.raises(ChecksumError) as caught:
        load_svhn("test", tmp_path / "data")
    for part in ("test_32x32.mat", source.as_uri(), "0" * 32):
        assert part in str(caught.value)
    assert list((tmp_path / "data" / "SVHN").iterdir()) == []


def test_svhn_damaged_file_is_replaced_by_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With downloads on, is a file with the wrong md5 replaced by the published one?"""
    source = tmp_path / "mirror" / "test_32x32.mat"
    write_svhn_mat(source, np.zeros((32, 32, 3, 2), np.uint8), np.array([4, 6], np.uint8))
    _serve_svhn(monkeypatch, "test", source, hashlib.md5(source.read_bytes()).hexdigest())
    damaged = tmp_path / "data" / "SVHN" / "test_32x32.mat"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(source.read_bytes()[:-10])
    assert load_svhn("test", tmp_path / "data")[1].tolist() == [4, 6]
    assert damaged.read_bytes() == source.read_bytes()


def test_svhn_unreachable_url_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a failed SVHN download raise DataMissingError with the address and leave no file?"""
    _serve_svhn(monkeypatch, "extra", tmp_path / "nowhere" / "extra_32x32.mat", SVHN_MD5["extra"])
    with pytest.raises(DataMissingError) as caught:
        load_svhn("extra", tmp_path / "data")
    message = str(caught.value)
    assert "downloading it failed" in message and "nowhere/extra_32x32.mat" in message
    assert list((tmp_path / "data" / "SVHN").iterdir()) == []


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
    """Is the second mirror used when the first one fails, with the table's real sha256?"""
    name = "binarized_mnist_test.amat"
    source = tmp_path / "mirror" / name
    source.parent.mkdir()
    source.write_bytes(gzip.decompress((data_root / (TEST_AMAT + ".gz")).read_bytes()))
    _serve(monkeypatch, TEST_AMAT, [tmp_path / "gone" / name, source])
    path = ensure_file(TEST_AMAT + ".gz", tmp_path / "data")
    assert path == tmp_path / "data" / TEST_AMAT
    assert verify(TEST_AMAT, tmp_path / "data")


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
    assert sorted(downloads.FILES) == sorted(
        [f"binarized_mnist/binarized_mnist_{split}.amat" for split in BINARIZED] + [SUBSET]
    )
    for split in BINARIZED:
        entry = downloads.FILES[f"binarized_mnist/binarized_mnist_{split}.amat"]
        assert entry.urls == (downloads._BINARIZED_URL + f"binarized_mnist_{split}.amat",)


def test_mnist_and_svhn_are_left_to_torchvision() -> None:
    """Does asking ensure_file for an MNIST or SVHN file point to load_mnist / load_svhn?"""
    for relpath in ("MNIST/raw/t10k-images-idx3-ubyte.gz", "SVHN/test_32x32.mat"):
        with pytest.raises(KeyError, match="load_mnist, load_svhn"):
            ensure_file(relpath, download=False)

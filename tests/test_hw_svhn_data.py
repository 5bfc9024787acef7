"""The SVHN loaders of hw_svhn: the WGAN's svhn_sampler and the FSVAE's data, on .mat files
written by the tests in the real format, and on the course's 1083-image subset."""

import numpy as np
import pytest
import torch
from svhn_files import write_svhn_mat

from grader import reference

HW = "hw_svhn"


def write_mat(path, n: int, seed: int, monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    """An SVHN-style .mat: X (32, 32, 3, n) uint8, y (n, 1) labels 1..10 (10 is the digit 0),
    whose md5 torchvision is told to expect for the length of the test."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, n).astype(np.uint8)
    write_svhn_mat(path, x, y, monkeypatch)
    return x, y


@pytest.fixture()
def q3_sampler():
    (module,) = reference.load(HW, "q3_sampler")
    return module


def test_sampler_reads_the_mat_files(tmp_path, q3_sampler, capsys, monkeypatch):
    """Does svhn_sampler split train 90/10, keep test whole, and scale pixels to [-1, 1]?"""
    x_train, _ = write_mat(tmp_path / "SVHN" / "train_32x32.mat", 20, 0, monkeypatch)
    x_test, _ = write_mat(tmp_path / "SVHN" / "test_32x32.mat", 7, 1, monkeypatch)
    train, valid, test = q3_sampler.svhn_sampler(tmp_path, train_batch_size=4, test_batch_size=5)
    assert (len(train.dataset), len(valid.dataset), len(test.dataset)) == (18, 2, 7)
    assert "subset" not in capsys.readouterr().out
    batch = next(iter(test))
    assert batch.shape == (5, 3, 32, 32) and batch.dtype == torch.float32
    want = torch.from_numpy(x_test[:, :, :, 0]).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.allclose(batch[0], want)  # image 0, channel-first, 0 -> -1 and 255 -> 1
    everything = torch.cat([b for b in train] + [b for b in valid])
    assert everything.min() >= -1 and everything.max() <= 1
    assert len(torch.cat(list(train))) == 16  # drop_last: batches of 4 out of 18


def test_sampler_falls_back_to_the_subset(data_root, q3_sampler, capsys):
    """Without the .mat files, does svhn_sampler serve the 1083-image subset, and say so?"""
    train, valid, test = q3_sampler.svhn_sampler(data_root, 64, 64)
    assert (len(train.dataset), len(valid.dataset), len(test.dataset)) == (975, 108, 108)
    assert "subset" in capsys.readouterr().out
    assert torch.equal(valid.dataset[0], test.dataset[0])
    assert next(iter(train)).shape == (64, 3, 32, 32)


def test_fsvae_data_flattens_channel_major(tmp_path, monkeypatch):
    """Does get_svhn_data give (N, 3072) channel-major uint8 rows and digits 0..9?"""
    x, y = write_mat(tmp_path / "SVHN" / "extra_32x32.mat", 6, 2, monkeypatch)
    (svhn,) = reference.load(HW, "codebase.svhn")
    data = svhn.get_svhn_data("extra", tmp_path)
    assert data.x.shape == (6, 3072) and data.x.dtype == torch.uint8 and data.labelled
    images = data.x.reshape(6, 3, 32, 32)
    assert torch.equal(images[3], torch.from_numpy(x[:, :, :, 3]).permute(2, 0, 1))
    assert data.y.tolist() == [0 if v == 10 else int(v) for v in y]


def test_subset_gets_seeded_fake_labels(data_root):
    """Does the subset come with labels 0..9, the same for the same seed, flagged as made up?"""
    (svhn,) = reference.load(HW, "codebase.svhn")
    a, b = svhn.subset_with_fake_labels(data_root), svhn.subset_with_fake_labels(data_root)
    assert a.x.shape == (1083, 3072) and not a.labelled
    assert torch.equal(a.y, b.y) and 0 <= a.y.min() and a.y.max() <= 9

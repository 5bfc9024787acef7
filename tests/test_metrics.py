"""Tests of coursekit/metrics.py: nats per image turned into bits per dimension."""

import math

import pytest
import torch

from coursekit.metrics import bits_per_dim, pixel_scale_nats


def test_one_bit_per_dimension() -> None:
    """Is an nll of dims * ln 2 nats exactly one bit per dimension, for floats and tensors?"""
    assert bits_per_dim(3072 * math.log(2), 3072) == pytest.approx(1.0)
    nll = torch.tensor([[0.0, 3072 * math.log(2)], [2 * 3072 * math.log(2), 1.0]])
    got = bits_per_dim(nll, 3072)
    assert got.shape == (2, 2)
    assert torch.allclose(got, torch.tensor([[0.0, 1.0], [2.0, 1 / (3072 * math.log(2))]]))


def test_rescaled_density_correction() -> None:
    """Does a density on [0, 1] need dims * ln 256 nats added, i.e. 8 bits per dimension?"""
    assert pixel_scale_nats(3072) == pytest.approx(3072 * math.log(256))
    assert bits_per_dim(pixel_scale_nats(3072), 3072) == pytest.approx(8.0)
    assert bits_per_dim(pixel_scale_nats(784, levels=2), 784) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bits_per_dim(1.0, 0),
        lambda: pixel_scale_nats(-1),
        lambda: pixel_scale_nats(10, levels=1),
    ],
)
def test_nonsense_arguments_are_refused(call) -> None:
    """Are zero or negative dimensions and fewer than two levels refused?"""
    with pytest.raises(ValueError):
        call()

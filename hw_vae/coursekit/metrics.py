"""Units of likelihood results: negative log-likelihoods in nats turned into bits per dimension."""

import math

import torch

Number = float | torch.Tensor


def bits_per_dim(nll_nats_per_image: Number, dims: int) -> Number:
    """A negative log-likelihood (or negative ELBO) per image, in nats, as bits per dimension.

    bits/dim = nll / (dims * ln 2). For 32 x 32 RGB images dims is 3072; a float gives a
    float, a tensor of any shape (one value per image, say) a tensor of that shape.

    The number compares across models only when every nll is the negative log-probability of
    the same discrete 8-bit pixels. A density over pixels rescaled to [0, 1] (x = k / 256 plus
    uniform noise) first needs `pixel_scale_nats(dims)` added: see there.
    """
    if dims <= 0:
        raise ValueError(f"dims must be a positive number of dimensions, got {dims}")
    return nll_nats_per_image / (dims * math.log(2))


def pixel_scale_nats(dims: int, levels: int = 256) -> float:
    """dims * ln(levels): the change of units from a density on [0, 1] to pixel values.

    A continuous density p over dequantized pixels y = (k + u) / levels in [0, 1]^dims
    corresponds to the density p / levels^dims over k + u in [0, levels]^dims, whose integral
    over each unit cube bounds the probability of the integers k. So
    -log P(k) <= -log p(y) + dims * ln(levels) in expectation over u: add this number to an
    nll measured on [0, 1] before calling bits_per_dim.
    """
    if dims <= 0 or levels <= 1:
        raise ValueError(f"need dims > 0 and levels > 1, got dims={dims}, levels={levels}")
    return dims * math.log(levels)

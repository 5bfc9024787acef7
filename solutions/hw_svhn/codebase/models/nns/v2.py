"""MLP encoder and decoder for 32 x 32 x 3 colour images, conditioned on a label (provided).

Two hidden layers of 500 ELU units each way. Images are flat vectors of 3072 values in [0, 1],
channel-major (x.reshape(-1, 3, 32, 32) gives the images back).
"""

import torch
from torch import nn

from codebase import utils as ut

PIXELS = 3 * 32 * 32
HIDDEN = 500


def _mlp(n_in: int, n_out: int) -> nn.Sequential:
    """n_in -> 500 -> 500 -> n_out, ELU after each hidden layer."""
    layers: list[nn.Module] = []
    for a, b in ((n_in, HIDDEN), (HIDDEN, HIDDEN)):
        layers += [nn.Linear(a, b), nn.ELU()]
    return nn.Sequential(*layers, nn.Linear(HIDDEN, n_out))


class Encoder(nn.Module):
    """q(z | x, y): the mean and the variance of a diagonal Gaussian, each (batch, z_dim)."""

    def __init__(self, z_dim: int, y_dim: int = 0):
        super().__init__()
        self.z_dim, self.y_dim = z_dim, y_dim
        self.net = _mlp(PIXELS + y_dim, 2 * z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        inputs = x if y is None else torch.cat((x, y), dim=1)  # (batch, 3072 + y_dim)
        return ut.gaussian_parameters(self.net(inputs), dim=1)

    encode = forward  # the name the original starter code called


class Decoder(nn.Module):
    """p(x | z, y): returns the mean mu(z, y) of the Gaussian over pixels, (batch, 3072).

    The mean is not squashed into [0, 1]: clip it for pictures (see FSVAE.compute_mean_given).
    """

    def __init__(self, z_dim: int, y_dim: int = 0):
        super().__init__()
        self.z_dim, self.y_dim = z_dim, y_dim
        self.net = _mlp(z_dim + y_dim, PIXELS)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        inputs = z if y is None else torch.cat((z, y), dim=1)  # (batch, z_dim + y_dim)
        return self.net(inputs)

    decode = forward

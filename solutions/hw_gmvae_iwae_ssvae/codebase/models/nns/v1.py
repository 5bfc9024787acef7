"""MLP encoder, decoder and classifier for 28 x 28 binary images (provided, not graded)."""

import torch
from torch import nn

from codebase import utils as ut

PIXELS = 784


def _mlp(n_in: int, n_out: int, act: type[nn.Module] = nn.ELU) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, 300), act(), nn.Linear(300, 300), act(), nn.Linear(300, n_out)
    )


class Encoder(nn.Module):
    """q(z | x[, y]): returns the mean and variance, each (batch, z_dim)."""

    def __init__(self, z_dim: int, y_dim: int = 0):
        super().__init__()
        self.z_dim, self.y_dim = z_dim, y_dim
        self.net = _mlp(PIXELS + y_dim, 2 * z_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        xy = x if y is None else torch.cat((x, y), dim=1)  # (batch, 784 + y_dim)
        return ut.gaussian_parameters(self.net(xy), dim=1)

    encode = forward  # the name older starter code called


class Decoder(nn.Module):
    """p(x | z[, y]): returns Bernoulli logits (batch, 784)."""

    def __init__(self, z_dim: int, y_dim: int = 0):
        super().__init__()
        self.z_dim, self.y_dim = z_dim, y_dim
        self.net = _mlp(z_dim + y_dim, PIXELS)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        zy = z if y is None else torch.cat((z, y), dim=1)  # (batch, z_dim + y_dim)
        return self.net(zy)

    decode = forward


class Classifier(nn.Module):
    """q(y | x): returns class logits (batch, y_dim)."""

    def __init__(self, y_dim: int):
        super().__init__()
        self.y_dim = y_dim
        self.net = _mlp(PIXELS, y_dim, act=nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    classify = forward

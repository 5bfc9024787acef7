"""The autoregressive-flow prior of the SVHN VAE (Problem 2b).

Chen et al., "Variational Lossy Autoencoder" (2016), eqs. 12-14: the prior over a latent map z
of shape (channels, height, width) is an autoregressive flow. A PixelCNN reads z and gives,
at every position i, a shift mu_i and a log-scale log sigma_i that depend only on the
positions before i; the map

    eps_i = (z_i - mu_i(z_<i)) * exp(-log sigma_i(z_<i))

sends z to eps ~ N(0, I). Its Jacobian is triangular, with diagonal exp(-log sigma), so

    log p(z) = log N(eps; 0, I) - sum_i log sigma_i.

The order is raster order over positions (row by row, left to right); the channels of one
position form one step, so masks act on the two spatial axes of a kernel and on no channel.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)


def causal_mask(mask_type: str, kernel_size: int) -> torch.Tensor:
    """The (kernel_size, kernel_size) 0/1 mask of a PixelCNN convolution, as floats.

    Entry (r, c) is 1 when the input at that offset precedes the output position in raster
    order: every row above the centre, and the centre row left of the centre. The centre
    itself is 1 for type 'B' (a layer may see its own position's features, which after a
    type-A layer only hold earlier positions) and 0 for type 'A' (the first layer must not
    see its own input). Everything right of the centre in its row, and every row below, is 0.
    For k = 3, type A is [[1, 1, 1], [1, 0, 0], [0, 0, 0]].

    Args:
        mask_type: 'A' or 'B'.
        kernel_size: an odd k; the centre is (k // 2, k // 2).

    Returns:
        (k, k) float tensor; MaskedConv2d multiplies it into its (out, in, k, k) weight.
    """
    # TODO: write your solution here (see the docstring).
    raise NotImplementedError


class MaskedConv2d(nn.Conv2d):
    """A k x k convolution with 'same' padding whose weight is multiplied by causal_mask."""

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.mask_type = mask_type
        # not in the state dict: a checkpoint holds weights only, the mask is rebuilt from its type
        self.register_buffer("mask", causal_mask(mask_type, kernel_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, in_channels, H, W) -> (batch, out_channels, H, W)."""
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class MaskedResidual(nn.Module):
    """x + conv_B(relu(x)): a residual layer that keeps the autoregressive property."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        self.conv = MaskedConv2d("B", channels, channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(F.relu(x))


class ShallowPixelCNN(nn.Module):
    """Type-A 3 x 3 masked conv, `layers` type-B residual layers, then a 1 x 1 conv.

    The output at position i depends only on the input at positions before i.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64, layers: int = 3):
        super().__init__()
        self.first = MaskedConv2d("A", in_channels, hidden, 3)
        self.blocks = nn.Sequential(*[MaskedResidual(hidden) for _ in range(layers)])
        self.last = MaskedConv2d("B", hidden, out_channels, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (batch, in_channels, H, W) -> (batch, out_channels, H, W)."""
        return self.last(F.relu(self.blocks(self.first(z))))


class AutoregressiveFlowPrior(nn.Module):
    """p(z) for latents z of shape (batch, channels, H, W), see the module's docstring."""

    def __init__(self, channels: int, hidden: int = 64, layers: int = 3):
        super().__init__()
        self.channels = channels
        self.net = ShallowPixelCNN(channels, 2 * channels, hidden, layers)

    def shift_and_log_scale(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu(z_<i) and log sigma(z_<i) at every position i.

        self.net(z) has 2 * channels channels: the first `channels` are the shift mu, the last
        `channels` the raw log-scale, which goes through tanh so that every sigma lies in
        (1/e, e) and the flow stays stable.

        Args:
            z: (batch, channels, H, W).

        Returns:
            mu, log_sigma: each (batch, channels, H, W).
        """
        # TODO: write your solution here (see the docstring).
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) under the flow: log N(eps; 0, I) - sum of log sigma, per example.

        Args:
            z: (batch, channels, H, W) latents.

        Returns:
            (batch,) log-densities, summed over channels and positions.
        """
        # TODO: write your solution here (see the docstring).
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, height: int, width: int, generator=None) -> torch.Tensor:
        """(n, channels, height, width) samples: the inverse map z = mu + sigma * eps.

        One pass of the network per position, in raster order: position i of z is final once
        every earlier position is, because mu_i and sigma_i read only those.
        """
        eps = torch.randn(n, self.channels, height, width, generator=generator)
        z = torch.zeros_like(eps)
        for r in range(height):
            for c in range(width):
                mu, log_sigma = self.shift_and_log_scale(z)
                z[:, :, r, c] = mu[:, :, r, c] + log_sigma[:, :, r, c].exp() * eps[:, :, r, c]
        return z

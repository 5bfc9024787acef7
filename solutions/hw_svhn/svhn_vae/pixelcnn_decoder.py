"""The bonus's decoder: a small PixelCNN over the pixels, conditioned on z (provided).

As in the Variational Lossy Autoencoder (Chen et al. 2016), the decoder is autoregressive
with a deliberately limited receptive field: it sees only a few pixels above and to the left,
so whatever is global about an image (the digit, its colours) has to travel through z. The
latent map (latent, 8, 8) is upsampled by two transposed convolutions to (hidden, 32, 32)
features that are added to the first masked layer's output. Every pixel's three colour
values get their own mixture of K discretized logistics (logistic.py), read from the pixels
before it in raster order; unlike PixelCNN++, the colours of one pixel do not condition on
each other (they are independent given the earlier pixels and z).

Receptive field: a type-A 3 x 3 masked convolution and `layers` type-B 3 x 3 residual layers
reach `layers + 1` rows up, which sample() exploits: it runs the network on a strip of that
many rows above the current one instead of the whole image.
"""

import torch
import torch.nn.functional as F
from torch import nn

from svhn_vae.flow import MaskedConv2d, MaskedResidual
from svhn_vae.logistic import discretized_logistic_mixture_log_prob

COLOURS = 3
SIZE = 32


class PixelCNNDecoder(nn.Module):
    """log P(pixels | z) and sampling, for pixels (batch, 3, 32, 32) with values 0..255."""

    def __init__(self, latent_channels: int, hidden: int = 64, layers: int = 2, mixtures: int = 5):
        super().__init__()
        self.mixtures = mixtures
        self.depth = layers + 1  # rows above a pixel that its parameters can read
        self.upsample = nn.Sequential(  # (batch, latent, 8, 8) -> (batch, hidden, 32, 32)
            nn.ConvTranspose2d(latent_channels, hidden, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1),
        )
        self.first = MaskedConv2d("A", COLOURS, hidden, 3)
        self.blocks = nn.Sequential(*[MaskedResidual(hidden) for _ in range(layers)])
        self.last = nn.Conv2d(hidden, COLOURS * 3 * mixtures, 1)

    def params(self, pixels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Mixture parameters of every colour value, from the pixels before it.

        Args:
            pixels: (batch, 3, H, W) integers 0..255 (H = 32, or a strip of rows).
            features: (batch, hidden, H, W) the upsampled z over the same rows.

        Returns:
            (batch, 3, H, W, 3K): logits, means and log-scales, as logistic.py reads them.
        """
        x = 2 * pixels.float() / 255 - 1  # the [-1, 1] scale of the logistics' centres
        h = self.blocks(self.first(x) + features)  # (batch, hidden, H, W)
        out = self.last(F.relu(h))  # (batch, 3 * 3K, H, W)
        b, _, height, width = out.shape
        return out.view(b, COLOURS, 3 * self.mixtures, height, width).permute(0, 1, 3, 4, 2)

    def log_prob(self, pixels: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log P(pixels | z) in nats, summed over the 3072 values: (batch,).

        pixels: (batch, 3, 32, 32) integers 0..255; z: (batch, latent, 8, 8).
        """
        theta = self.params(pixels, self.upsample(z))  # (batch, 3, 32, 32, 3K)
        return discretized_logistic_mixture_log_prob(pixels, theta).flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(batch, 3, 32, 32) int64 pixels drawn one position at a time, in raster order.

        Each step runs the network on the strip of rows [r - depth, r] only: the parameters
        of row r read nothing above it, so they come out exactly as on the whole image.
        """
        features = self.upsample(z)  # (batch, hidden, 32, 32)
        pixels = torch.zeros(len(z), COLOURS, SIZE, SIZE, dtype=torch.long, device=z.device)
        for r in range(SIZE):
            top = max(0, r - self.depth)
            for c in range(SIZE):
                theta = self.params(pixels[:, :, top : r + 1], features[:, :, top : r + 1])
                pixels[:, :, r, c] = self.draw(theta[:, :, r - top, c], generator)
        return pixels

    def draw(self, theta: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One value 0..255 per row of theta (..., 3K): pick a component, then invert its CDF."""
        k = self.mixtures
        logits, means, log_scales = theta.split(k, dim=-1)  # (..., K) each
        u = torch.rand((2, *logits.shape), generator=generator).to(theta.device)
        u = u.clamp(1e-5, 1 - 1e-5)
        pick = (logits - torch.log(-torch.log(u[0]))).argmax(-1, keepdim=True)  # Gumbel-max
        m, log_s = means.gather(-1, pick), log_scales.gather(-1, pick)  # (..., 1)
        v = m + log_s.exp() * (torch.log(u[1, ..., :1]) - torch.log1p(-u[1, ..., :1]))
        return torch.round((v.squeeze(-1) + 1) * 255 / 2).clamp(0, 255).long()

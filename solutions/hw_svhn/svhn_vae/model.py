"""The SVHN VAE of Problem 2 (provided): a Gaussian or an autoregressive-flow prior.

Data convention. Pixels are 8-bit integers k in 0..255. The Gaussian decoder is a density
over the dequantized values y = (k + u) / 256, u ~ U[0, 1) per value, which lie in [0, 1).
A density p(y) on [0, 1)^D is the density p(y) / 256^D over k + u, and integrating that over
the unit cube of k bounds log P(k) from below (Jensen), so the bound of the pixels is

    -log P(k) <= E_u[-log p(y)] + D ln 256

(coursekit.metrics.pixel_scale_nats). The bits per dimension reported here always include
that term; they divide nats per image by D ln 2 with D = 3 * 32 * 32 = 3072. The PixelCNN
decoder (bonus) gives the probabilities of the integers directly and needs no such term.

Methods take images as uint8 (batch, 3, 32, 32), dequantized here with fresh noise, or as
floats y already dequantized into [0, 1), used as they are (the integers are floor(256 y)).
"""

import copy

import torch
from torch import nn

from coursekit.metrics import bits_per_dim, pixel_scale_nats
from svhn_vae.flow import LOG_2PI, AutoregressiveFlowPrior
from svhn_vae.networks import LATENT_CHANNELS, Decoder, Encoder
from svhn_vae.pixelcnn_decoder import PixelCNNDecoder

LATENT_SIZE = 8  # the latent map is (latent_channels, 8, 8)
DIMS = 3 * 32 * 32  # dimensions of one image
LEVELS = 256  # values of one 8-bit pixel


def dequantize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 pixels k -> (k + u) / 256 in [0, 1), u ~ U[0, 1) per value; floats pass through."""
    if x.is_floating_point():
        return x
    u = torch.rand(x.shape, generator=generator).to(x.device)
    return (x.float() + u) / LEVELS


def log_normal_diag(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag(exp(log_var))) per example: (batch, ...) -> (batch,)."""
    log_p = -0.5 * (LOG_2PI + log_var + (x - mean).pow(2) * torch.exp(-log_var))
    return log_p.flatten(1).sum(1)


class SVHNVAE(nn.Module):
    """VAE on 32 x 32 SVHN images with an 8 x 8 latent map (see networks.py).

    Args:
        prior: "gaussian" for p(z) = N(0, I), "flow" for the autoregressive flow of flow.py
            (Chen et al. 2016, eqs. 12-14) over the latent map in raster order.
        decoder: "gaussian" for the handout's diagonal Gaussian over dequantized pixels,
            "pixelcnn" for the bonus's PixelCNN with a discretized logistic mixture.
        latent_channels: channels of the latent map (16 by default: 1024 latent dimensions).
    """

    def __init__(
        self,
        prior: str = "gaussian",
        decoder: str = "gaussian",
        latent_channels: int = LATENT_CHANNELS,
    ):
        super().__init__()
        if prior not in ("gaussian", "flow") or decoder not in ("gaussian", "pixelcnn"):
            raise ValueError(
                f"prior must be 'gaussian' or 'flow' and decoder 'gaussian' or "
                f"'pixelcnn', got {prior!r} and {decoder!r}"
            )
        self.prior_kind, self.decoder_kind = prior, decoder
        self.latent_channels = latent_channels
        self.encoder = Encoder(latent_channels)
        self.decoder = (
            Decoder(latent_channels) if decoder == "gaussian" else PixelCNNDecoder(latent_channels)
        )
        self.prior = AutoregressiveFlowPrior(latent_channels) if prior == "flow" else None

    # ------------------------------------------------------------------------- the bound

    def kl_nats(self, mean: torch.Tensor, log_var: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """KL(q(z | x) || p(z)) per example, (batch,); all inputs (batch, latent, 8, 8).

        Analytic for the Gaussian prior; for the flow, the one-sample estimate
        log q(z | x) - log p(z) at the z drawn from q (unbiased, like the whole bound).
        """
        if self.prior is None:
            kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var)  # KL of two Gaussians
            return kl.flatten(1).sum(1)
        return log_normal_diag(z, mean, log_var) - self.prior.log_prob(z)

    def reconstruction_nats(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """-log P(pixels | z) per example, in nats of the 8-bit pixels, (batch,).

        y: (batch, 3, 32, 32) dequantized images in [0, 1); z: (batch, latent, 8, 8).
        """
        if self.decoder_kind == "pixelcnn":
            return -self.decoder.log_prob(pixels_of(y), z)
        mean, log_var = self.decoder(z)  # (batch, 3, 32, 32) each
        return -log_normal_diag(y, mean, log_var) + pixel_scale_nats(DIMS, LEVELS)

    def nelbo_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, kl), each (batch,) in nats, with one z ~ q(z | x) per image."""
        y = dequantize(x)  # (batch, 3, 32, 32) in [0, 1)
        mean, log_var = self.encoder(y)  # (batch, latent, 8, 8) each
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)  # reparameterization
        return self.reconstruction_nats(y, z), self.kl_nats(mean, log_var, z)

    def nelbo_bits_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """The negative ELBO of each image in bits per dimension, (batch,).

        x: (batch, 3, 32, 32) uint8 pixels, or floats already dequantized into [0, 1).
        """
        rec, kl = self.nelbo_terms(x)
        return bits_per_dim(rec + kl, DIMS)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The batch mean of nelbo_bits_per_dim(x), 0-dim: what training minimises."""
        return self.nelbo_bits_per_dim(x).mean()

    # ------------------------------------------------------------------------- pictures

    @torch.no_grad()
    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latent maps z ~ p(z), (n, latent, 8, 8), on the model's device."""
        device = self.encoder.head.weight.device
        shape = (n, self.latent_channels, LATENT_SIZE, LATENT_SIZE)
        if self.prior is None:
            return torch.randn(shape, generator=generator).to(device)
        # the flow's sampler draws on the CPU: run it on a CPU copy of the (small) prior
        cpu_prior = copy.deepcopy(self.prior).cpu()
        return cpu_prior.sample(n, LATENT_SIZE, LATENT_SIZE, generator=generator).to(device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images (batch, 3, 32, 32) in [0, 1] for latents z (batch, latent, 8, 8).

        The Gaussian decoder's means, clipped to [0, 1]; the PixelCNN decoder has no mean in
        closed form, so it draws a sample.
        """
        if self.decoder_kind == "pixelcnn":
            return self.decoder.sample(z, generator=generator).float() / (LEVELS - 1)
        return self.decoder(z)[0].clamp(0, 1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, 3, 32, 32) in [0, 1]: decode(z) for z ~ p(z)."""
        return self.decode(self.sample_prior(n, generator), generator)

    @torch.no_grad()
    def interpolate(self, x0: torch.Tensor, x1: torch.Tensor, steps: int = 10) -> torch.Tensor:
        """Decoded images along the line between the posterior means of x0 and x1.

        Args:
            x0, x1: (pairs, 3, 32, 32) images (uint8, or floats in [0, 1)).
            steps: points on the line, both ends included: z_t = (1 - t) m0 + t m1.

        Returns:
            (pairs, steps, 3, 32, 32) images in [0, 1].
        """
        m0, m1 = self.encoder(dequantize(x0))[0], self.encoder(dequantize(x1))[0]
        t = torch.linspace(0, 1, steps, device=m0.device).view(1, steps, 1, 1, 1)
        z = (1 - t) * m0.unsqueeze(1) + t * m1.unsqueeze(1)  # (pairs, steps, latent, 8, 8)
        images = self.decode(z.flatten(0, 1))  # (pairs * steps, 3, 32, 32)
        return images.view(len(x0), steps, *images.shape[1:])


def pixels_of(y: torch.Tensor) -> torch.Tensor:
    """Dequantized y = (k + u) / 256 in [0, 1) -> the integers k, as int64 of the same shape."""
    return (y * LEVELS).floor().clamp(0, LEVELS - 1).long()

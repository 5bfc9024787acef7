"""Part 4: a convolutional VAE whose decoder is a Gaussian with one fixed standard deviation.

The data are MNIST digits made continuous ("dequantized"): x = (pixel + u) / 256 with
u ~ U[0, 1), so every x lies in [0, 1)^784 and a density over [0, 1]^784 makes sense. The model:

    prior      p(z)   = N(0, I)                              (no learned parameters)
    posterior  q(z|x) = N(mean(x), diag exp(log_std(x))^2)   (the encoder gives the LOG-STD)
    decoder    p(x|z) = N(x_mean(z), decoder_std^2 I)        (decoder_std fixed, 0.1 by default)

The networks are provided; you write `calc_elbo` (the training, validation and test loss) and
`sample`. Every number is in nats of a density over [0, 1]^784; run_conv_vae.py converts the
test loss to bits per dimension of 8-bit pixels.
"""

import math

import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)
IMAGE_SHAPE = (1, 28, 28)


class ConvVAE(nn.Module):
    """Convolutional encoder and transposed-convolutional decoder around a latent z.

    Encoder: three 3x3 convolutions (the first two with stride 2: 28 -> 14 -> 7), then two
    fully connected layers to 2 * latent_dim numbers, the mean and the log-std of q(z|x).
    Decoder: two fully connected layers back to a (2 channels, 7, 7) map, then three 3x3
    transposed convolutions (two with stride 2: 7 -> 14 -> 28) to the means of the 784 pixels.

    Args:
        latent_dim: dimension of z.
        decoder_std: the fixed standard deviation of p(x|z), the same for every pixel.
        channels: channels of the first convolution (the others have twice as many).
        hidden: width of the fully connected layers.
    """

    def __init__(
        self, latent_dim: int = 16, decoder_std: float = 0.1, channels: int = 16, hidden: int = 256
    ):
        super().__init__()
        self.latent_dim, self.decoder_std = latent_dim, decoder_std
        c, flat = channels, 2 * channels * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, stride=2, padding=1),
            nn.GELU(),  # (c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.GELU(),  # (2c, 7, 7)
            nn.Conv2d(2 * c, 2 * c, 3, padding=1),
            nn.GELU(),  # (2c, 7, 7)
            nn.Flatten(),
            nn.Linear(flat, hidden),
            nn.GELU(),
            nn.Linear(hidden, 2 * latent_dim),  # mean and log-std of q(z|x)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.GELU(),
            nn.Linear(hidden, flat),
            nn.GELU(),
            nn.Unflatten(1, (2 * c, 7, 7)),
            nn.ConvTranspose2d(2 * c, 2 * c, 3, padding=1),
            nn.GELU(),  # (2c, 7, 7)
            nn.ConvTranspose2d(2 * c, c, 3, stride=2, padding=1, output_padding=1),
            nn.GELU(),
            nn.ConvTranspose2d(c, 1, 3, stride=2, padding=1, output_padding=1),  # (1, 28, 28)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, 1, 28, 28) in [0, 1] -> mean, log_std of q(z|x), each (batch, latent_dim).

        log_std is the log of the standard deviation (not of the variance): std = exp(log_std).
        """
        mean, log_std = self.encoder(x).chunk(2, dim=1)
        return mean, log_std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (batch, latent_dim) -> (batch, 1, 28, 28) the means of p(x|z), not clipped."""
        return self.decoder(z)

    def calc_elbo(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The negative ELBO of a batch, and its two terms; the loss to minimise.

        For every example i, with (mean_i, log_std_i) = encode(x_i):
        - draw ONE z_i ~ q(z|x_i) with the reparameterization z_i = mean_i + std_i * eps_i,
          eps_i ~ N(0, I), so that gradients reach the encoder;
        - rec_i = -log N(x_i; decode(z_i), decoder_std^2 I), summed over the 784 pixels,
          normalising constant included: per pixel
          (x - x_mean)^2 / (2 decoder_std^2) + log(decoder_std) + log(2 pi) / 2;
        - kl_i = KL(q(z|x_i) || N(0, I)) in closed form, summed over the latent dimensions:
          sum_j (mean_ij^2 + std_ij^2 - 1) / 2 - log_std_ij.
        The negative ELBO is nelbo_i = rec_i + kl_i.

        Args:
            x: (batch, 1, 28, 28) dequantized images in [0, 1].

        Returns:
            (nelbo, kl, rec): three 0-dim tensors, each the MEAN over the batch of the per-example
            values above (nats per image), with nelbo = kl + rec. nelbo stays differentiable
            with respect to the parameters of both networks.
        """
        # BEGIN SOLUTION
        mean, log_std = self.encode(x)  # (batch, latent_dim) each
        std = log_std.exp()
        z = mean + std * torch.randn_like(mean)  # (batch, latent_dim), reparameterized
        x_mean = self.decode(z)  # (batch, 1, 28, 28)
        # -log N(x; x_mean, s^2) per pixel = (x - x_mean)^2 / (2 s^2) + log s + log(2 pi) / 2
        s = self.decoder_std
        per_pixel = 0.5 * ((x - x_mean) / s).pow(2) + math.log(s) + 0.5 * LOG_2PI
        rec = per_pixel.flatten(1).sum(1)  # (batch,)
        # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1) / 2 - log s, per latent dimension
        kl = (0.5 * (mean.pow(2) + std.pow(2) - 1) - log_std).sum(1)  # (batch,)
        return (rec + kl).mean(), kl.mean(), rec.mean()
        # END SOLUTION

    def sample(self, n: int) -> torch.Tensor:
        """n images from the model: the decoder's means at n independent z ~ N(0, I).

        The means, not draws of p(x|z): adding decoder_std noise would only make them grainy.

        Args:
            n: number of images.

        Returns:
            (n, 1, 28, 28) decode(z) for a fresh z ~ N(0, I) per image (not clipped to [0, 1]).
        """
        # BEGIN SOLUTION
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, device=device)  # (n, latent_dim)
        return self.decode(z)
        # END SOLUTION

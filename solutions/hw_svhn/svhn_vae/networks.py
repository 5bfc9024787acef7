"""The SVHN VAE's convolutional encoder and decoder (Problem 2, provided).

The architecture of the handout, every convolution with "same" padding, images of 32 x 32
and a latent map of 8 x 8:

    residual stack: 5 x [ReLU, conv 64 3x3, ReLU, conv 128 3x3, gated shortcut], then ReLU
    encoder: conv 128 4x4 /2, conv 256 4x4 /2, ReLU, conv 256 3x3, residual stack, head
    decoder: conv 256 3x3, residual stack, deconv 128 4x4 x2, ReLU, deconv 6 4x4 x2

The gated shortcut is a gated linear unit (Dauphin et al., "Language Modeling with Gated
Convolutional Networks", 2017): the 128 channels of the second convolution are two halves
a, b of 64 channels each, and GLU(a, b) = a * sigmoid(b) has 64 channels. A 1 x 1
convolution lifts those 64 channels to the width of the stack (256) so that the shortcut
x + W GLU(a, b) adds tensors of the same shape.
"""

import torch
import torch.nn.functional as F
from torch import nn

WIDTH = 256  # channels that flow through both residual stacks
LATENT_CHANNELS = 16  # channels of the 8 x 8 latent map: 16 * 8 * 8 = 1024 latent dimensions
IMAGE_CHANNELS = 3


class GatedResidualBlock(nn.Module):
    """x + W GLU(conv_128(relu(conv_64(relu(x))))): one block of the residual stack."""

    def __init__(self, channels: int = WIDTH, hidden: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, 2 * hidden, 3, padding=1)  # the two halves of the GLU
        self.lift = nn.Conv2d(hidden, channels, 1)  # GLU's 64 channels -> the stack's width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, channels, H, W) -> (batch, channels, H, W)."""
        h = self.conv2(F.relu(self.conv1(F.relu(x))))  # (batch, 2 * hidden, H, W)
        return x + self.lift(F.glu(h, dim=1))  # glu: first half * sigmoid(second half)


class ResidualStack(nn.Sequential):
    """`blocks` gated residual blocks, then a ReLU: (batch, C, H, W) -> (batch, C, H, W)."""

    def __init__(self, channels: int = WIDTH, blocks: int = 5):
        super().__init__(*[GatedResidualBlock(channels) for _ in range(blocks)], nn.ReLU())


class Encoder(nn.Module):
    """q(z | x): images (batch, 3, 32, 32) -> mean and log-variance of an 8 x 8 latent map."""

    def __init__(self, latent_channels: int = LATENT_CHANNELS):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(IMAGE_CHANNELS, 128, 4, stride=2, padding=1),  # (batch, 128, 16, 16)
            nn.Conv2d(128, WIDTH, 4, stride=2, padding=1),  # (batch, 256, 8, 8)
            nn.ReLU(),
            nn.Conv2d(WIDTH, WIDTH, 3, padding=1),
            ResidualStack(WIDTH),
        )
        self.head = nn.Conv2d(WIDTH, 2 * latent_channels, 1)  # mean and log-variance

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, 3, 32, 32) in [0, 1] -> mean, log_var: each (batch, latent, 8, 8)."""
        mean, log_var = self.head(self.body(x)).chunk(2, dim=1)
        return mean, log_var


class Decoder(nn.Module):
    """p(x | z): a latent map (batch, latent, 8, 8) -> a diagonal Gaussian over the pixels.

    The last transposed convolution has 6 channels instead of the original 3: the mean and
    the log-variance of every colour value.
    """

    def __init__(self, latent_channels: int = LATENT_CHANNELS):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(latent_channels, WIDTH, 3, padding=1),  # (batch, 256, 8, 8)
            ResidualStack(WIDTH),
            nn.ConvTranspose2d(WIDTH, 128, 4, stride=2, padding=1),  # (batch, 128, 16, 16)
            nn.ReLU(),
            nn.ConvTranspose2d(128, 2 * IMAGE_CHANNELS, 4, stride=2, padding=1),  # (b, 6, 32, 32)
        )

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z: (batch, latent, 8, 8) -> mean, log_var: each (batch, 3, 32, 32)."""
        mean, log_var = self.net(z).chunk(2, dim=1)
        return mean, log_var

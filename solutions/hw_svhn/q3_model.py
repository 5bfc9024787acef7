"""The WGAN's networks for 32 x 32 x 3 SVHN images in [-1, 1] (provided, DCGAN-style)."""

import torch
from torch import nn

Z_DIM = 100
IMAGE_SHAPE = (3, 32, 32)


class Critic(nn.Module):
    """T: images -> unbounded real scores. No batch norm: the Lipschitz penalty is taken per
    example, which batch statistics would couple.

    Convolutions 3 -> 64 -> 128 -> 256 (4 x 4, stride 2, padding 1, each followed by
    LeakyReLU(0.2)) take 32 x 32 down to 4 x 4; a last 4 x 4 convolution gives one value.
    """

    def __init__(self, width: int = 64):
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in ((3, width), (width, 2 * width), (2 * width, 4 * width)):
            layers += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Conv2d(4 * width, 1, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, 3, 32, 32) images, or the same flattened to (batch, 3072) -> (batch,).

        Flat points are accepted so that hw_vae's objectives, written for (batch, D) points,
        apply as they are.
        """
        return self.net(x.reshape(-1, *IMAGE_SHAPE)).reshape(-1)


class Generator(nn.Module):
    """g: z ~ N(0, I) of size 100 -> images in [-1, 1].

    Transposed convolutions 100 -> 256 (4 x 4 from 1 x 1), then 256 -> 128 -> 64 -> 3 (4 x 4,
    stride 2, padding 1: 4 -> 8 -> 16 -> 32 pixels), with batch norm and ReLU between them
    and tanh at the end.
    """

    def __init__(self, z_dim: int = Z_DIM, width: int = 64):
        super().__init__()
        self.z_dim = z_dim
        channels = (z_dim, 4 * width, 2 * width, width)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(channels, channels[1:])):
            stride, padding = (1, 0) if i == 0 else (2, 1)
            layers += [nn.ConvTranspose2d(a, b, 4, stride, padding), nn.BatchNorm2d(b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.ConvTranspose2d(width, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (batch, z_dim) -> (batch, 3, 32, 32)."""
        return self.net(z.reshape(-1, self.z_dim, 1, 1))

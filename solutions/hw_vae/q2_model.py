"""The critic of Problem 2 (provided): a multilayer perceptron from R^in_size to R."""

import torch
from torch import nn


class Critic(nn.Module):
    """T: R^in_size -> R, unbounded: Linear-LeakyReLU three times, then Linear to one value.

    Args:
        in_size: dimension of the points it scores (2 in Problem 2).
        hidden: width of the three hidden layers.
    """

    def __init__(self, in_size: int = 2, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_size, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, in_size) -> (batch,) one real score per point."""
        return self.net(x).squeeze(-1)

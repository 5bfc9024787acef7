"""Samplers of Problem 2 (provided): the distributions whose distances the critics estimate."""

from collections.abc import Iterator

import torch


def distribution1(
    x: float, batch_size: int = 512, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor]:
    """Batches of the points (x, u) with u ~ U(0, 1), forever.

    p of the handout is distribution1(0), and q is distribution1(theta).

    Args:
        x: the first coordinate, the same for every point.
        batch_size: points per batch.
        generator: optional torch.Generator, to make the batches reproducible.

    Yields:
        (batch_size, 2) float32 tensors whose rows are (x, u).
    """
    while True:
        u = torch.rand(batch_size, 1, generator=generator)  # (batch, 1)
        yield torch.cat([torch.full_like(u, float(x)), u], dim=1)  # (batch, 2)

"""The FSVAE's training loop (provided): Adam on model.loss(x, y) over shuffled mini-batches."""

import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from tqdm import tqdm

BATCH_SIZE = 100  # the original run_fsvae.py's batch size


def shuffled_batches(n: int, batch_size: int, generator=None) -> Iterator[torch.Tensor]:
    """Index batches of range(n), reshuffled every epoch, forever."""
    while True:
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            yield idx


def as_unit_interval(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> floats in [0, 1]; floats are assumed to be in [0, 1] already."""
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def train(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    iter_max: int,
    iter_save: float = math.inf,
    lr: float = 1e-3,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    on_save: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Train `model` for `iter_max` steps; return the loss of every step, (iter_max,).

    Args:
        model: has loss(x, y) -> (loss, summaries); the loop calls nothing else of it.
        x: (N, 3072) uint8 pixels, or floats in [0, 1].
        y: (N,) digit labels 0..9, turned into one-hot (batch, 10) rows for the model.
        iter_save: every this many steps, call on_save(step) (saving a checkpoint and a grid).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    stream = shuffled_batches(len(x), batch_size)
    losses = torch.zeros(iter_max)
    with torch.enable_grad(), tqdm(range(1, iter_max + 1), disable=not progress) as bar:
        for step in bar:
            idx = next(stream)
            loss, _ = model.loss(as_unit_interval(x[idx]), F.one_hot(y[idx], 10).float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[step - 1] = loss.detach()
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.1f}")
            if on_save is not None and step % iter_save == 0:
                on_save(step)
    return losses

"""Image grids saved as PNG files, the picture deliverables of every homework.

torchvision.utils lays the grid out (make_grid) and writes the PNG (save_image); this module
fixes the course's conventions: pixels clipped to [0, 1], one pixel of white between images,
and an exact rows x cols grid.
"""

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import make_grid, save_image


def _grid(images: torch.Tensor, rows: int, cols: int, pad: int) -> torch.Tensor:
    """Images (rows * cols, C, H, W) -> one grid (C', H', W') on a white background, where C'
    is 3 for gray images (make_grid repeats their channel) and C otherwise."""
    n = images.shape[0]
    if images.dim() != 4 or n != rows * cols:
        raise ValueError(
            f"tile: got images of shape {tuple(images.shape)} for a {rows} x {cols} grid; "
            f"pass {rows * cols} images shaped (C, H, W)"
        )
    pixels = images.detach().float().clamp(0, 1).cpu()
    if n == 1:  # make_grid returns a lone image without its border
        pixels = torch.nn.functional.pad(pixels, (pad, pad, pad, pad), value=1.0)
    return make_grid(pixels, nrow=cols, padding=pad, pad_value=1.0)


def tile(images: torch.Tensor, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile images (rows * cols, C, H, W) in [0, 1] into one (H', W', C) array, row-major.

    H' = rows * (H + pad) + pad and W' = cols * (W + pad) + pad; the padding is white (1.0)
    and pixels outside [0, 1] are clipped. The result is float32.
    """
    grid = _grid(images, rows, cols, pad)  # (C', H', W')
    channels = images.shape[1]
    return grid[:channels].permute(1, 2, 0).contiguous().numpy()  # gray: 1 of 3 equal channels


def save_grid(images: torch.Tensor, path: str | Path, rows: int, cols: int) -> Path:
    """Save images (rows * cols, C, H, W) in [0, 1] as one PNG grid; return the path.

    The grid is tile()'s (one white pixel between images), saved as 8-bit RGB (gray images as
    three equal channels); the folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(_grid(images, rows, cols, pad=1), path, format="png")
    return path

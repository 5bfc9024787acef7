"""Image grids saved as PNG files, the picture deliverables of every homework."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def tile(images: torch.Tensor, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile images (rows * cols, C, H, W) in [0, 1] into one (H', W', C) array, row-major."""
    n, c, h, w = images.shape
    if n != rows * cols:
        raise ValueError(f"tile: got {n} images for a {rows} x {cols} grid; pass {rows * cols}")
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.float32)
    imgs = images.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    for k in range(n):
        r, q = divmod(k, cols)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[top : top + h, left : left + w] = imgs[k]
    return grid


def save_grid(images: torch.Tensor, path: str | Path, rows: int, cols: int) -> Path:
    """Save images (rows * cols, C, H, W) in [0, 1] as one PNG grid; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = tile(images, rows, cols)
    if grid.shape[2] == 1:
        plt.imsave(path, grid[:, :, 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        plt.imsave(path, grid)
    return path

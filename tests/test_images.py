"""Tests of coursekit/images.py: image grids laid out by torchvision.utils, saved as PNG."""

import numpy as np
import pytest
import torch
from PIL import Image

from coursekit.images import save_grid, tile


def _images(n: int, channels: int, h: int = 5, w: int = 4) -> torch.Tensor:
    """n images (n, channels, h, w) whose values run past [0, 1] on both sides."""
    return torch.rand(n, channels, h, w, generator=torch.Generator().manual_seed(n)) * 1.6 - 0.3


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_tile_places_each_image_row_major_on_white(channels: int, pad: int) -> None:
    """Is image k at row k // cols, column k % cols, clipped to [0, 1], with white padding
    between and around the images, in a float32 (H', W', C) array?"""
    rows, cols, h, w = 2, 3, 5, 4
    images = _images(rows * cols, channels, h, w)
    grid = tile(images, rows, cols, pad)
    assert grid.shape == (rows * (h + pad) + pad, cols * (w + pad) + pad, channels)
    assert grid.dtype == np.float32
    covered = np.zeros(grid.shape[:2], bool)
    for k in range(rows * cols):
        top, left = pad + (k // cols) * (h + pad), pad + (k % cols) * (w + pad)
        want = images[k].clamp(0, 1).permute(1, 2, 0).numpy()
        assert np.array_equal(grid[top : top + h, left : left + w], want), k
        covered[top : top + h, left : left + w] = True
    assert (grid[~covered] == 1).all()


def test_tile_of_one_image_keeps_its_border() -> None:
    """Does a 1 x 1 grid still have the padding around its image?"""
    grid = tile(_images(1, 3), 1, 1)
    assert grid.shape == (7, 6, 3)
    assert (grid[0] == 1).all() and (grid[:, -1] == 1).all()


def test_tile_refuses_the_wrong_number_of_images() -> None:
    """Is a batch that does not fill the rows x cols grid exactly refused, saying how many?"""
    with pytest.raises(ValueError, match="pass 6"):
        tile(_images(5, 1), 2, 3)


@pytest.mark.parametrize("channels", [1, 3])
def test_save_grid_writes_the_tiled_png(tmp_path, channels: int) -> None:
    """Does save_grid create the folder and write an 8-bit RGB PNG of tile()'s grid (gray
    images as three equal channels), from tensors that need gradients?"""
    images = _images(12, channels).requires_grad_()
    path = save_grid(images, tmp_path / "new" / "grid.png", 3, 4)
    assert path == tmp_path / "new" / "grid.png"
    with Image.open(path) as png:
        assert png.format == "PNG" and png.mode == "RGB"
        pixels = np.asarray(png)
    want = np.floor(tile(images, 3, 4) * 255 + 0.5).astype(np.uint8)  # (H', W', channels)
    assert pixels.shape == want.shape[:2] + (3,)
    assert np.array_equal(pixels, np.broadcast_to(want, pixels.shape))

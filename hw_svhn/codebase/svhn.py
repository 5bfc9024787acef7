"""SVHN for the FSVAE: flat channel-major images with their digit labels (provided)."""

from dataclasses import dataclass

import torch

from coursekit.data import load_svhn, load_svhn_subset


@dataclass
class SvhnData:
    """One SVHN split as the training loop uses it."""

    x: torch.Tensor  # (N, 3072) uint8 pixels, channel-major: x.reshape(-1, 3, 32, 32) are images
    y: torch.Tensor  # (N,) digits 0..9
    labelled: bool  # False for the subset, whose labels are made up (see subset_with_fake_labels)


def flatten_images(images: torch.Tensor) -> torch.Tensor:
    """(N, 32, 32, 3) uint8 images (NHWC, as stored) -> (N, 3072) channel-major rows."""
    return images.permute(0, 3, 1, 2).reshape(len(images), -1).contiguous()


def get_svhn_data(split: str = "extra", root: str | None = None) -> SvhnData:
    """The `split` of SVHN ('train', 'test' or 'extra'), downloaded first when missing.

    The pixels stay uint8 (the extra split alone is 1.6 GB that way, four times more as
    floats); the training loop scales each batch to [0, 1].
    """
    images, labels = load_svhn(split, root)
    return SvhnData(flatten_images(images), labels, labelled=True)


def subset_with_fake_labels(root: str | None = None, seed: int = 0) -> SvhnData:
    """The 1083-image SVHN subset that ships with the course, with random labels.

    The subset has no labels. Random ones let a --dry-run exercise the whole pipeline, but a
    model trained on them cannot learn what a digit class looks like.
    """
    images = load_svhn_subset(root)
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (len(images),), generator=gen)
    return SvhnData(flatten_images(images), labels, labelled=False)

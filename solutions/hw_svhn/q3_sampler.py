"""SVHN images for the WGAN of Problem 3 (provided): loaders of (batch, 3, 32, 32) in [-1, 1].

The full data set is read from SVHN/train_32x32.mat and SVHN/test_32x32.mat under the data
root. Where only the course's 1083-image subset is present (SVHN/svhn_train_first1083_X_nhwc_
uint8.npy, no labels), the loaders serve that instead, with a message; where neither is, the
.mat files are downloaded (or the error says which file to put where).
"""

import torch
from torch.utils.data import DataLoader, Dataset

from coursekit.data import DataMissingError, load_svhn, load_svhn_subset

VALID_FRACTION = 0.1  # the 73257 training images split into 65931 train + 7326 validation
SPLIT_SEED = 0


class Images(Dataset):
    """uint8 NHWC images served one by one as (3, 32, 32) floats in [-1, 1]; labels dropped."""

    def __init__(self, images: torch.Tensor):
        self.images = images  # (N, 32, 32, 3) uint8

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i].permute(2, 0, 1).float() / 127.5 - 1  # (3, 32, 32): 0 -> -1, 255 -> 1


def load_images(root=None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(train + validation images, test images, where they came from), all uint8 NHWC.

    From the .mat files if both are present, else from the subset (then its last 10% doubles
    as the test set), else from the .mat files downloaded now.
    """
    try:
        return load_svhn("train", root, False)[0], load_svhn("test", root, False)[0], "full"
    except DataMissingError:
        pass
    try:
        subset = load_svhn_subset(root)
    except DataMissingError:  # neither: download the full set (or say what to put where)
        return load_svhn("train", root)[0], load_svhn("test", root)[0], "full"
    held_out = subset[len(subset) - round(VALID_FRACTION * len(subset)) :]
    return subset, held_out, "subset"


def svhn_sampler(root=None, train_batch_size: int = 64, test_batch_size: int = 64):
    """(train, validation, test) DataLoaders of SVHN images in [-1, 1], shuffled for training.

    The training images are split 90 / 10 into train and validation with a fixed seed. On the
    subset, validation and test are the same last 10% of its images.

    Yields: (batch, 3, 32, 32) float tensors (no labels: the GAN does not use them).
    """
    trainvalid, test, source = load_images(root)
    if source == "subset":
        print(
            f"svhn_sampler: only the {len(trainvalid)}-image SVHN subset was found; "
            "put train_32x32.mat and test_32x32.mat in <data root>/SVHN/ for the full set"
        )
        n_valid = len(test)
        order = torch.arange(len(trainvalid))
    else:
        n_valid = round(VALID_FRACTION * len(trainvalid))
        order = torch.randperm(len(trainvalid), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train = Images(trainvalid[order[: len(order) - n_valid]])
    valid = Images(trainvalid[order[len(order) - n_valid :]])
    return (
        DataLoader(train, batch_size=train_batch_size, shuffle=True, drop_last=True),
        DataLoader(valid, batch_size=test_batch_size),
        DataLoader(Images(test), batch_size=test_batch_size),
    )

"""Train / validation / test splits of SVHN for the SVHN VAE (Problem 2, provided).

The full data set: the 73257 images of train_32x32.mat split 90 / 10 with a fixed seed into
65931 train and 7326 validation images (the same split as q3_sampler's), and the 26032 of
test_32x32.mat. Where only the course's 1083-image subset exists, its images are shuffled
with the same seed and split 883 / 100 / 100: enough to check that training works, not to
report results.
"""

from dataclasses import dataclass

import torch

from coursekit.data import DataMissingError, load_svhn, load_svhn_subset

VALID_FRACTION = 0.1  # 73257 -> 65931 train + 7326 validation
SPLIT_SEED = 0
SUBSET_HELD_OUT = 100  # validation and test images each, on the 1083-image subset


@dataclass
class Splits:
    """Images as uint8 (N, 3, 32, 32), channel-first, with where they came from."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    source: str  # "full" or "subset"

    def sizes(self) -> str:
        return f"{len(self.train)} / {len(self.valid)} / {len(self.test)}"


def channels_first(images: torch.Tensor) -> torch.Tensor:
    """(N, 32, 32, 3) uint8 as stored -> (N, 3, 32, 32) uint8, contiguous."""
    return images.permute(0, 3, 1, 2).contiguous()


def full_splits(root=None, download: bool = True) -> Splits:
    """The handout's splits of the full data set, 65931 / 7326 / 26032 images."""
    trainvalid = channels_first(load_svhn("train", root, download)[0])
    test = channels_first(load_svhn("test", root, download)[0])
    n_valid = round(VALID_FRACTION * len(trainvalid))
    order = torch.randperm(len(trainvalid), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train, valid = trainvalid[order[:-n_valid]], trainvalid[order[-n_valid:]]
    return Splits(train, valid, test, "full")


def subset_splits(root=None) -> Splits:
    """The 1083-image subset, shuffled and split 883 / 100 / 100."""
    images = channels_first(load_svhn_subset(root))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_train = len(images) - 2 * SUBSET_HELD_OUT
    train, held_out = images[order[:n_train]], images[order[n_train:]]
    return Splits(train, held_out[:SUBSET_HELD_OUT], held_out[SUBSET_HELD_OUT:], "subset")


def svhn_splits(root=None, subset: bool = False) -> Splits:
    """The full splits when train_32x32.mat and test_32x32.mat are present, else the subset's.

    With `subset`, always the subset. Without it and without the .mat files, the subset is
    used when present (with a message), else the .mat files are downloaded (or the error
    says which file to put where).
    """
    if subset:
        return subset_splits(root)
    try:
        return full_splits(root, download=False)
    except DataMissingError:
        pass
    try:
        splits = subset_splits(root)
    except DataMissingError:
        return full_splits(root, download=True)
    total = len(splits.train) + len(splits.valid) + len(splits.test)
    print(
        f"Only the {total}-image SVHN subset was found: training on its {splits.sizes()} "
        "split. Put train_32x32.mat and test_32x32.mat in "
        "<data root>/SVHN/ for the handout's 65931 / 7326 / 26032."
    )
    return splits

"""Train the FSVAE whose weights the quick tier tests on: python -m grader.hw_svhn.make_weights

The reference FSVAE, trained with the provided loop on the course's 1083-image SVHN subset for
--steps steps (default 300, about half a minute on one CPU thread). The subset has no labels,
so each image gets a seeded random one: the decoder learns to ignore y, but the encoder's
posteriors and the decoder's means are those of a trained model, unlike random weights.
Stored 4-bit (harness.quantize_4bit) as grader/hw_svhn/weights/fsvae.pt; the NELBO printed
at the end compares the float32 model with the stored one on the same images.
"""

import argparse

import torch

from grader import reference
from grader.hw_svhn.harness import (
    FSVAE_WEIGHTS,
    HW,
    dequantize_4bit,
    fake_labels,
    quantize_4bit,
    reference_fsvae,
)


def train_reference(steps: int, seed: int, root: str | None) -> tuple[dict, torch.Tensor]:
    """The reference FSVAE's state after `steps` steps on the subset (seeded labels), and the
    subset's images as floats in [0, 1]."""
    from coursekit.data import load_svhn_subset

    fsvae, train, svhn = reference.load(
        HW, "codebase.models.fsvae", "codebase.train", "codebase.svhn"
    )
    x = svhn.flatten_images(load_svhn_subset(root))  # (1083, 3072) uint8
    torch.manual_seed(seed)
    model = fsvae.FSVAE()
    losses = train.train(model, x, fake_labels(len(x)), steps, progress=True)
    print(f"NELBO over the last 20 steps: {losses[-20:].mean():.1f}")
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, x.float() / 255


@torch.no_grad()
def mean_nelbo(state: dict, x: torch.Tensor) -> float:
    """The reference FSVAE's NELBO on x with these weights, averaged over 5 seeded draws."""
    model = reference_fsvae(state)
    y = torch.nn.functional.one_hot(fake_labels(len(x)), 10).float()
    torch.manual_seed(0)
    return sum(model.negative_elbo_bound(x, y)[0].item() for _ in range(5)) / 5


def main() -> None:
    """Train the FSVAE of the quick tier and store its weights, 4-bit per row."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--steps", type=int, default=300, help="training steps")
    p.add_argument("--seed", type=int, default=0, help="torch seed of the initialisation")
    p.add_argument("--data-root", default=None, help="data folder (default: $VAECOURSE_DATA)")
    args = p.parse_args()
    torch.set_num_threads(1)
    state, x = train_reference(args.steps, args.seed, args.data_root)
    stored = quantize_4bit(state)
    FSVAE_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    torch.save(stored, FSVAE_WEIGHTS)
    print(f"Saved {FSVAE_WEIGHTS} ({FSVAE_WEIGHTS.stat().st_size / 1e6:.2f} MB)")
    print(
        f"NELBO on the subset: {mean_nelbo(state, x):.1f} (float32), "
        f"{mean_nelbo(dequantize_4bit(stored), x):.1f} (as stored)"
    )


if __name__ == "__main__":
    main()

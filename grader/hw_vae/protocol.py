"""Items 1.6 and 1.7's protocol, shared by the full tier (test_full.py) and its calibration.

Training runs wherever vae_mnist is importable with a q1_solution beside it: in the worker, the
provided vae_mnist.py on top of the student's q1_solution.py, so the loss is built from the
student's helpers. The validation ELBO is then computed in the trusted process by the reference
code on the returned weights; the importance-sampled log-likelihood (item 1.7) is computed in
the worker, by vae_mnist with the student's helpers, because that is what the item asks for.
"""

import dataclasses

import torch

from grader import reference
from grader.messages import Call, Init, Train

HW = "hw_vae"
MODEL = Init("vae_mnist:VAE", {"latent": 100, "arch": "mlp"})
SCHEDULE = {"epochs": 20, "lr": 3e-4, "batch_size": 64}  # the handout's: Adam, 20 epochs
NUM_SAMPLES = 200  # K of item 1.7
IS_BATCH = 50  # test images per chunk of the estimate (50 * 200 latents decoded at once)
ELBO_TARGET = -102.0  # the handout's criterion for the average validation ELBO


def vae_mnist():
    """The reference vae_mnist module, with the reference q1_solution under it (trusted)."""
    _, module = reference.load(HW, "q1_solution", "vae_mnist")
    return module


def splits(root=None):
    """The fixed binarized MNIST (uint8, (N, 784)), read by the reference loader."""
    return vae_mnist().load_splits(root)


def train_request(
    train_x: torch.Tensor, seed: int, threads: int, epochs: int | None = None
) -> Train:
    """The worker request that trains vae_mnist.VAE with vae_mnist.train on train_x."""
    schedule = {**SCHEDULE, "epochs": epochs or SCHEDULE["epochs"]}
    return Train(
        loop="vae_mnist:train",
        init=MODEL,
        data={"train_x": train_x},
        loop_kwargs={**schedule, "progress": False},
        seed=seed,
        threads=threads,
    )


def log_likelihood_request(state: dict, test_x: torch.Tensor, seed: int) -> Call:
    """The worker request for vae_mnist.log_likelihoods(model, test_x): (N,) values."""
    return Call(
        "vae_mnist:log_likelihoods",
        args=(test_x,),
        kwargs={"num_samples": NUM_SAMPLES, "batch_size": IS_BATCH, "progress": False},
        init=dataclasses.replace(MODEL, state=state, arg=0),
        seed=seed,
    )


def train_reference(data, seed: int, epochs: int | None = None) -> tuple[dict, list[dict]]:
    """Train the reference in this process as the worker would: (state, per-epoch history).

    data: train_x, and valid_x for a validation ELBO per epoch (vae_mnist.train validates on
    its own random numbers, so the training is the worker's for the same seed either way).
    """
    vm = vae_mnist()
    torch.manual_seed(seed)  # the worker's order: seed, build the model, train
    model = vm.VAE(**MODEL.kwargs)
    schedule = {**SCHEDULE, "epochs": epochs or SCHEDULE["epochs"]}
    history = vm.train(model, data, **schedule, progress=False, report=vm.print_epoch)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, history


def model_from(state: dict):
    """A reference VAE holding `state`, in evaluation mode."""
    model = vae_mnist().VAE(**MODEL.kwargs)
    model.load_state_dict(state)
    return model.eval()


def average_elbo(state: dict, x: torch.Tensor, seed: int = 0) -> float:
    """The reference's one-sample ELBO averaged over x (the number of item 1.6)."""
    model = model_from(state)
    torch.manual_seed(seed)  # after building the model, as the worker's "call" does
    return vae_mnist().average_elbo(model, x)


def log_likelihood(state: dict, x: torch.Tensor, seed: int = 0) -> float:
    """The reference's importance-sampled log-likelihood averaged over x (item 1.7)."""
    model = model_from(state)
    torch.manual_seed(seed)  # after building the model, as the worker's "call" does
    values = vae_mnist().log_likelihoods(model, x, NUM_SAMPLES, IS_BATCH, False)
    return values.mean().item()


def nan_free(state: dict) -> bool:
    """Whether every floating-point tensor of `state` is finite."""
    return all(torch.isfinite(v).all().item() for v in state.values() if v.is_floating_point())

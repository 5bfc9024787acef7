"""Requests that the hidden tests send to the worker, and the reference values they compare to.

Model-level tests call the student's method on the project's trained weights with every helper
of codebase/utils.py replaced by the trusted one, so a bug in a helper costs its points once.
"""

import functools
from pathlib import Path

import torch

from grader import calls, reference
from grader.messages import CallResult, Grad, Init
from grader.sandbox import Sandbox

HW = "hw_gmvae_iwae_ssvae"
WEIGHTS = Path(__file__).resolve().parent / "weights"
HELPERS = (
    "sample_gaussian",
    "log_normal",
    "log_normal_mixture",
    "gaussian_parameters",
    "log_bernoulli_with_logits",
    "kl_cat",
    "kl_normal",
    "duplicate",
    "log_sum_exp",
    "log_mean_exp",
)
TRUSTED_UTILS = {"codebase.utils": "_reference.utils"}

# kind -> (module, class, constructor arguments) of the models that the tests load weights into
MODELS = {
    "vae": ("codebase.models.vae", "VAE", {"z_dim": 10}),
    "gmvae": ("codebase.models.gmvae", "GMVAE", {"z_dim": 10, "k": 500}),
    "ssvae": ("codebase.models.ssvae", "SSVAE", {"gen_weight": 1, "class_weight": 100}),
}
ENC_BIAS = "enc.net.4.bias"  # (2 z_dim,): where the reparameterized gradient reaches q(z|x)
WEIGHT_FILES = {"vae": "vae.pt", "gmvae": "gmvae.pt", "ssvae": "ssvae_gw1.pt"}


def load_weights(kind: str) -> dict:
    """The shipped trained weights of `kind` (stored in float16), as float32."""
    state = torch.load(WEIGHTS / WEIGHT_FILES[kind], weights_only=True)
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def reference_model(kind: str, state: dict):
    """The reference model of `kind` (from solutions/), built as MODELS says, holding `state`."""
    module, cls, kwargs = MODELS[kind]
    (mod,) = reference.load(HW, module)
    model = getattr(mod, cls)(**kwargs)
    model.load_state_dict(state)
    return model


def utils_call(
    sandbox: Sandbox,
    name: str,
    *args,
    repeat: int = 1,
    seed: int = 0,
    grad: Grad | None = None,
    trusted: tuple = (),
) -> CallResult:
    """Call the student's codebase.utils.<name>; helpers in `trusted` are replaced first."""
    patches = {"codebase.utils": {h: f"_reference.utils:{h}" for h in trusted}}
    return calls.function(
        sandbox,
        f"codebase.utils:{name}",
        *args,
        repeat=repeat,
        seed=seed,
        grad=grad,
        patches=patches,
    )


def model_init(kind: str, state: dict) -> Init:
    """The student's model of `kind`, built as the handout does and holding `state`."""
    module, cls, kwargs = MODELS[kind]
    return Init(f"{module}:{cls}", kwargs, state)


def model_call(
    sandbox: Sandbox,
    kind: str,
    method: str,
    state: dict,
    *args,
    repeat: int = 1,
    seed: int = 0,
    grad: Grad | None = None,
    timeout: float | None = None,
) -> CallResult:
    """Call the student's <Model>.<method> on `state`, with trusted helpers."""
    return calls.method(
        sandbox,
        model_init(kind, state),
        method,
        *args,
        repeat=repeat,
        seed=seed,
        grad=grad,
        timeout=timeout,
        fallbacks=TRUSTED_UTILS,
        patches={"codebase.utils": {h: f"_reference.utils:{h}" for h in HELPERS}},
    )


def reference_runs(fn, repeat: int, seed: int = 1234) -> list[torch.Tensor]:
    """Outputs of `repeat` calls of the reference `fn()`, stacked per output."""
    torch.manual_seed(seed)
    runs = [fn() for _ in range(repeat)]
    return [torch.stack([r[i].detach() for r in runs]) for i in range(len(runs[0]))]


def reference_grads(
    model, method: str, args: tuple, params: list, repeat: int, seed: int = 4321
) -> dict:
    """Gradients of output 0 of model.<method>(*args) for `params`, stacked over repeats and
    projected as the student's are (see `project`): (repeat, k) per parameter."""
    torch.manual_seed(seed)
    named = dict(model.named_parameters())
    grads = {p: [] for p in params}
    for _ in range(repeat):
        model.zero_grad(set_to_none=True)
        getattr(model, method)(*args)[0].backward()
        for p in params:
            g = named[p].grad
            grads[p].append(torch.zeros_like(named[p]) if g is None else g.detach().clone())
    return {p: project(torch.stack(v)) for p, v in grads.items()}


def student_grads(result: CallResult, params: list) -> dict:
    """Parameter gradients of every repeat of a model_call made with grad=..."""
    return {p: torch.stack([r.grads.params[p] for r in result.runs]) for p in params}


def project(g: torch.Tensor, k: int = 8) -> torch.Tensor:
    """(repeats, *shape) gradients -> (repeats, k) projections on fixed random directions.

    A parameter of at most 4 k entries (a last bias) is kept entry by entry instead: a random
    projection mixes the entries where a bug shows with noisier ones. A sample detached inside
    the GMVAE's KL, for one, shifts only the variance half of the encoder's bias, by about 15
    standard errors per entry but under 5 in every projection.
    """
    flat = g.flatten(1).double()
    if flat.shape[1] <= 4 * k:
        return flat
    gen = torch.Generator().manual_seed(0)
    return flat @ torch.randn(flat.shape[1], k, generator=gen, dtype=torch.float64)


@functools.cache
@torch.no_grad()
def synthetic_images(n: int = 50, seed: int = 7) -> torch.Tensor:
    """(n, 784) binary digits drawn from the trained reference VAE: no data set needed."""
    model = reference_model("vae", load_weights("vae"))
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.z_dim, generator=gen)
    return torch.bernoulli(torch.sigmoid(model.dec(z)), generator=gen)

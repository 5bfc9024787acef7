"""Requests that the hidden tests of hw_vae send to the worker, and the critics they run on.

A test of one q1 helper swaps in the trusted version of the four others (a student's
kl_gaussian_gaussian_mc may call log_likelihood_normal), so a bug costs its own item only.
The q2 functions take the critic as their third argument: the worker builds it from the
provided model.py and the state that the test sends (`init` with `arg`).
"""

import functools
import math

import torch
import torch.nn.functional as F

from grader.checks import run

HW = "hw_vae"
Q1_HELPERS = (
    "log_likelihood_bernoulli",
    "log_likelihood_normal",
    "log_mean_exp",
    "kl_gaussian_gaussian_analytic",
    "kl_gaussian_gaussian_mc",
)
# The provided Critic(in_size=2) of model.py: its Linear layers in order, their weights' shapes
# and LeakyReLU's negative slope.
LAYERS = ("net.0", "net.2", "net.4", "net.6")
SHAPES = ((256, 2), (256, 256), (256, 256), (1, 256))
SLOPE = 0.2


def q1_call(sandbox, name: str, *args, repeat: int = 1, seed: int = 0) -> dict:
    """Call the student's q1_solution.<name>, with the other helpers replaced by trusted ones."""
    trusted = {h: f"_reference.q1_solution:{h}" for h in Q1_HELPERS if h != name}
    request = {
        "op": "call",
        "target": f"q1_solution:{name}",
        "args": list(args),
        "repeat": repeat,
        "seed": seed,
        "patches": {"q1_solution": trusted},
    }
    return run(sandbox, request)


def q1_grad_call(sandbox, name: str, *args, grad: dict, seed: int = 0) -> dict:
    """q1_call with gradients: the worker backpropagates from grad["output"] (summed) and
    returns the gradients of the arguments at the positions grad["args"]."""
    trusted = {h: f"_reference.q1_solution:{h}" for h in Q1_HELPERS if h != name}
    request = {
        "op": "call",
        "target": f"q1_solution:{name}",
        "args": list(args),
        "seed": seed,
        "grad": grad,
        "patches": {"q1_solution": trusted},
    }
    return run(sandbox, request)


def critic_call(
    sandbox, name: str, state: dict, x, y, *, repeat: int = 1, seed: int = 0, grad=None
) -> dict:
    """Call the student's q2_solution.<name>(x, y, critic) on a Critic loaded with `state`."""
    request = {
        "op": "call",
        "target": f"q2_solution:{name}",
        "args": [x, y],
        "init": {"target": "model:Critic", "kwargs": {"in_size": 2}, "state": state, "arg": 2},
        "repeat": repeat,
        "seed": seed,
        "grad": grad,
    }
    return run(sandbox, request)


def critic_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """The provided Critic's forward pass, written from its state: (batch, 2) -> (batch,).

    Linear-LeakyReLU(0.2) three times, then Linear to one value. The hidden tests compute with
    this copy, so they need nothing from solutions/; a project test checks that it agrees with
    model.Critic.
    """
    h = x
    for i, layer in enumerate(LAYERS):
        h = F.linear(h, state[f"{layer}.weight"], state[f"{layer}.bias"])
        if i < len(LAYERS) - 1:
            h = F.leaky_relu(h, SLOPE)
    return h.squeeze(-1)


def critic(state: dict):
    """x -> critic_forward(state, x)."""
    return functools.partial(critic_forward, state)


def critic_state(seed: int = 0, median_norm: float = 1.0, out_mean: float = 0.0) -> dict:
    """Weights for the provided Critic that make it bend within the handout's square.

    A Critic as PyTorch initialises it is almost affine over [0, 2] x [0, 1], with gradient
    norms near 0.03: every penalty would be 0 and the objectives would hardly tell bugs apart.
    Here the weights are drawn like PyTorch's, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times a gain
    per layer: 4 on the first, which puts its kinks inside the square, 2.5 on the hidden ones,
    which keeps them; then the last layer is scaled so that the median gradient norm over the
    points of `scattered` is `median_norm` (for 1: from about 0.02 to 3), and its bias shifted
    so that T averages `out_mean` there.
    """
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for layer, (fan_out, fan_in), gain in zip(LAYERS, SHAPES, (4.0, 2.5, 2.5, 1.0)):
        bound = gain / math.sqrt(fan_in)
        state[f"{layer}.weight"] = (torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * bound
        state[f"{layer}.bias"] = (torch.rand(fan_out, generator=gen) * 2 - 1) * bound
    x = scattered(1024, seed=0).requires_grad_(True)
    (g,) = torch.autograd.grad(critic_forward(state, x).sum(), x)
    last = median_norm / g.norm(dim=1).median().item()
    state["net.6.weight"] = state["net.6.weight"] * last
    with torch.no_grad():
        shift = out_mean - critic_forward({**state, "net.6.bias": torch.zeros(1)}, x).mean()
    state["net.6.bias"] = shift.reshape(1)
    return state


def lipschitz_state(bound: float = 0.9) -> dict:
    """critic_state() scaled so that the product of its layers' spectral norms is `bound`.

    LeakyReLU's slopes are at most 1, so every gradient norm of this critic is below `bound`.
    """
    state = critic_state()
    product = 1.0
    for layer in LAYERS:
        product *= torch.linalg.matrix_norm(state[f"{layer}.weight"].double(), 2).item()
    scale = bound / product
    return {
        **state,
        "net.6.weight": state["net.6.weight"] * scale,
        "net.6.bias": state["net.6.bias"] * scale,
    }


def points(theta: float, n: int, seed: int) -> torch.Tensor:
    """(n, 2) points (theta, u), u ~ U(0, 1): the handout's distributions p (theta = 0) and q."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 1, generator=gen)
    return torch.cat([torch.full_like(u, theta), u], dim=1)


def scattered(n: int, seed: int) -> torch.Tensor:
    """(n, 2) points spread over [-0.5, 2.5] x [-0.25, 1.25], around the handout's square."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=gen) * torch.tensor([3.0, 1.5]) - torch.tensor([0.5, 0.25])


# ---------------------------------------------------------------- Parts 4 and 5: models
# The tests of conv_vae.py and vae2d.py build the provided networks in the worker with weights
# made here from a seed, then calibrated (`calibrate_last_layer`) so that the bugs show: means of
# q(z|x) that differ between inputs, log-stds away from 0, decoder means that move with z.
# A call to the student's VAE2D runs with the trusted decoder likelihoods of vae2d.py, so that a
# bug in one of them (item 5.1) costs its own item only.

from grader import reference  # noqa: E402 - appended with Parts 4 and 5

CONV_VAE = "conv_vae:ConvVAE"
VAE2D = "vae2d:VAE2D"
DECODER_LOG_PROBS = ("log_prob_diagonal", "log_prob_scalar")
TRUSTED_DECODERS = {"vae2d": {f: f"_reference.vae2d:{f}" for f in DECODER_LOG_PROBS}}


def model_call(
    sandbox,
    target: str,
    method: str,
    kwargs: dict,
    state: dict,
    *args,
    repeat: int = 1,
    seed: int = 0,
    grad=None,
    patches: dict | None = None,
) -> dict:
    """The student's `target`.<method>(*args) on an instance built with kwargs and `state`."""
    request = {
        "op": "call",
        "target": f"{target}.{method}",
        "args": list(args),
        "init": {"target": target, "kwargs": kwargs, "state": state},
        "repeat": repeat,
        "seed": seed,
        "grad": grad,
        "patches": patches or {},
    }
    return run(sandbox, request)


def vae2d_function_call(sandbox, name: str, *args) -> dict:
    """The student's vae2d.<name>, with the trusted version of the other decoder likelihood."""
    trusted = {f: f"_reference.vae2d:{f}" for f in DECODER_LOG_PROBS if f != name}
    request = {
        "op": "call",
        "target": f"vae2d:{name}",
        "args": list(args),
        "patches": {"vae2d": trusted},
    }
    return run(sandbox, request)


def seeded_state(module_name: str, class_name: str, kwargs: dict, seed: int) -> dict:
    """PyTorch's initialisation of the reference's (provided) network, drawn from `seed`."""
    (module,) = reference.load(HW, module_name)
    with torch.random.fork_rng(devices=[]):  # leaves the trusted process's random stream alone
        torch.manual_seed(seed)
        net = getattr(module, class_name)(**kwargs)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def reference_model(module_name: str, class_name: str, kwargs: dict, state: dict):
    """The reference network with `state`; the tests use only its provided encode/decode."""
    (module,) = reference.load(HW, module_name)
    net = getattr(module, class_name)(**kwargs)
    net.load_state_dict(state)
    return net.eval()


def calibrate_last_layer(
    state: dict,
    layer: str,
    outputs: torch.Tensor,
    means: torch.Tensor,
    stds: torch.Tensor,
    weight_dim: int = 0,
) -> dict:
    """`state` with the network's last layer `layer` (Linear or convolution) rescaled so that
    each output channel has the given mean and standard deviation over `outputs`.

    outputs: (n, channels, ...) what the network gave with `state`; means, stds: (channels,).
    weight_dim: the dimension of the layer's weight that indexes output channels (0 for Linear
    and Conv2d, 1 for ConvTranspose2d).
    """
    dims = [d for d in range(outputs.dim()) if d != 1]
    bias = state[f"{layer}.bias"]
    raw = outputs - bias.reshape((-1,) + (1,) * (outputs.dim() - 2))  # the weight's part
    scale = stds / raw.std(dim=dims).clamp_min(1e-8)  # (channels,)
    weight = state[f"{layer}.weight"]
    view = [1] * weight.dim()
    view[weight_dim] = -1
    return {
        **state,
        f"{layer}.weight": weight * scale.reshape(view),
        f"{layer}.bias": means - scale * raw.mean(dim=dims),
    }


# ------------------------------------------------ Part 4: the ConvVAE of test_conv_vae.py

CONV_KWARGS = {"latent_dim": 4, "decoder_std": 0.1, "channels": 4, "hidden": 32}
CONV_ENC_LAST = "encoder.9"  # the encoder's last Linear: means, then log-stds of q(z|x)
CONV_DEC_LAST = "decoder.9"  # the decoder's last ConvTranspose2d: the pixels' means


def conv_images(n: int, seed: int) -> torch.Tensor:
    """(n, 1, 28, 28) dequantized images of smooth random strokes, in [0, 1)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(n, 1, 7, 7, generator=gen)
    smooth = torch.nn.functional.interpolate(coarse, size=28, mode="bilinear")
    pixels = (torch.sigmoid(3 * smooth - 1.5) * 255).floor()
    return (pixels + torch.rand(pixels.shape, generator=gen)) / 256


@functools.cache
def conv_calibrated_state() -> dict:
    """Seeded weights whose q(z|x) has means of spread 1 and log-stds about -0.7 +- 0.4 over
    `conv_images`, and whose decoder means spread 0.35 +- 0.3 over z ~ N(0, I)."""
    state = seeded_state("conv_vae", "ConvVAE", CONV_KWARGS, seed=0)
    latent = CONV_KWARGS["latent_dim"]
    with torch.no_grad():
        out = conv_reference(state).encoder(conv_images(256, seed=1))  # (256, 2 latent)
    means = torch.cat([torch.zeros(latent), torch.full((latent,), -0.7)])
    stds = torch.cat([torch.ones(latent), torch.full((latent,), 0.4)])
    state = calibrate_last_layer(state, CONV_ENC_LAST, out, means, stds)
    z = torch.randn(256, latent, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = conv_reference(state).decoder(z)  # (256, 1, 28, 28)
    return calibrate_last_layer(
        state, CONV_DEC_LAST, out, torch.tensor([0.35]), torch.tensor([0.3]), weight_dim=1
    )


@functools.cache
def conv_blind_state() -> dict:
    """The calibrated weights with the last layers' weights zeroed: q(z|x) is the same for
    every x (means 0.5, -1, 1.5, 0; log-stds -1.5, -0.5, 0, 0.5) and the decoder's mean is
    0.3 at every pixel, whatever z."""
    state = dict(conv_calibrated_state())
    for layer in (CONV_ENC_LAST, CONV_DEC_LAST):
        state[f"{layer}.weight"] = torch.zeros_like(state[f"{layer}.weight"])
    state[f"{CONV_ENC_LAST}.bias"] = torch.tensor([0.5, -1.0, 1.5, 0.0, -1.5, -0.5, 0.0, 0.5])
    state[f"{CONV_DEC_LAST}.bias"] = torch.tensor([0.3])
    return state


def conv_reference(state: dict, decoder_std: float = 0.1):
    """The reference ConvVAE of the tests, with `state`."""
    return reference_model(
        "conv_vae", "ConvVAE", {**CONV_KWARGS, "decoder_std": decoder_std}, state
    )


# --------------------------------------------------- Part 5: the VAE2D of test_vae2d.py

VAE2D_HIDDEN = 32
VAE2D_ENC_LAST, VAE2D_DEC_LAST = "encoder.4", "decoder.4"
VAE2D_DECODER_OUT = {"diagonal": 4, "scalar": 3}  # decoder outputs: mean, then log-variance(s)


def vae2d_kwargs(kind: str) -> dict:
    """VAE2D's arguments in the tests: the decoder `kind` and hidden layers of 32."""
    return {"decoder": kind, "hidden": VAE2D_HIDDEN}


def vae2d_points(n: int, seed: int) -> torch.Tensor:
    """(n, 2) points around the decoder's means."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=gen) * torch.tensor([2.5, 1.5]) + torch.tensor([1.0, 1.5])


def vae2d_reference(kind: str, state: dict):
    """The reference VAE2D of the tests, with `state`."""
    return reference_model("vae2d", "VAE2D", vae2d_kwargs(kind), state)


@functools.cache
def vae2d_calibrated_state(kind: str) -> dict:
    """Seeded weights: q(z|x) with means of spread 1 and log-variances 0.5 +- 0.7 over
    `vae2d_points` (variances from about 1/2 to 7: mistaking the variance for the std shows);
    decoder means (1, 1.5) +- (2, 1.2) over z ~ N(0, I) and log-variance(s) 0.8 whatever z."""
    state = seeded_state("vae2d", "VAE2D", vae2d_kwargs(kind), seed=1)
    with torch.no_grad():
        out = vae2d_reference(kind, state).encoder(vae2d_points(512, seed=2))  # (512, 4)
    state = calibrate_last_layer(
        state,
        VAE2D_ENC_LAST,
        out,
        torch.tensor([0.0, 0, 0.5, 0.5]),
        torch.tensor([1.0, 1, 0.7, 0.7]),
    )
    n_var = VAE2D_DECODER_OUT[kind] - 2
    z = torch.randn(512, 2, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = vae2d_reference(kind, state).decoder(z)
    means = torch.tensor([1.0, 1.5] + [0.8] * n_var)
    stds = torch.tensor([2.0, 1.2] + [0.3] * n_var)
    state = calibrate_last_layer(state, VAE2D_DEC_LAST, out, means, stds)
    weight, bias = state[f"{VAE2D_DEC_LAST}.weight"].clone(), means.clone()
    weight[2:] = 0  # a log-variance that moved with z would make -log p(x|z) heavy-tailed
    bias[:2] = state[f"{VAE2D_DEC_LAST}.bias"][:2]
    return {**state, f"{VAE2D_DEC_LAST}.weight": weight, f"{VAE2D_DEC_LAST}.bias": bias}


def vae2d_blind_state(kind: str, encoder_bias: list[float]) -> dict:
    """Last layers' weights zeroed: q(z|x) = N(encoder_bias[:2], diag exp(encoder_bias[2:])) for
    every x; p(x|z) has mean (1, -0.5) and log-variances (0.4, -0.8), or 0.4 for the scalar one,
    whatever z."""
    state = dict(vae2d_calibrated_state(kind))
    for layer in (VAE2D_ENC_LAST, VAE2D_DEC_LAST):
        state[f"{layer}.weight"] = torch.zeros_like(state[f"{layer}.weight"])
    state[f"{VAE2D_ENC_LAST}.bias"] = torch.tensor(encoder_bias)
    bias = [1.0, -0.5, 0.4, -0.8][: VAE2D_DECODER_OUT[kind]]
    state[f"{VAE2D_DEC_LAST}.bias"] = torch.tensor(bias)
    return state

"""The SVHN VAE of hw_svhn's Problem 2 (provided code of the solution): shapes, the Gaussian
likelihood and bits/dim against hand computations, the flow prior's KL, the bonus's PixelCNN
decoder, the splits, the run script and benchmark, and 300-step trainings on the real SVHN
subset (the SVHN VAE's and the FSVAE's) that must lower the training loss."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from dry_runs import run_dry
from svhn_files import write_svhn_mat

from grader import reference

HW = "hw_svhn"
REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / HW
SUBSET = Path("SVHN") / "svhn_train_first1083_X_nhwc_uint8.npy"


@pytest.fixture(scope="module")
def svae():
    """The solution's svhn_vae.model module."""
    module, _ = reference.load(HW, "svhn_vae.model", "svhn_vae.data")
    return module


@pytest.fixture(scope="module")
def run_script():
    """The solution's run_svhn_vae.py, imported (importing it runs nothing)."""
    reference.load(HW, "svhn_vae.model", "svhn_vae.data")
    sys.path.insert(0, str(SOLUTION))
    try:
        import run_svhn_vae
    finally:
        sys.path.remove(str(SOLUTION))
    return run_svhn_vae


@pytest.fixture()
def subset_root(data_root) -> Path:
    """The data root, or a skip when the 1083-image SVHN subset is not there."""
    if not (data_root / SUBSET).exists():
        pytest.skip(f"the SVHN subset {SUBSET} is not in {data_root}")
    return data_root


@pytest.fixture()
def one_thread():
    """Run the test with one torch thread, as the machines that calibrated it did."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def all_cores():
    """Run the test on every core (up to 4): the longest test of the suite, run alone."""
    threads = torch.get_num_threads()
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    yield
    torch.set_num_threads(threads)


def random_pixels(n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)


# ------------------------------------------------------------------------ shapes and numbers


def test_shapes(svae):
    """Do the networks and the model's methods give the documented shapes and ranges?"""
    torch.manual_seed(0)
    model = svae.SVHNVAE("gaussian")
    x = random_pixels(3)
    mean, log_var = model.encoder(svae.dequantize(x))
    assert mean.shape == log_var.shape == (3, 16, 8, 8)
    mu, log_var = model.decoder(mean)
    assert mu.shape == log_var.shape == (3, 3, 32, 32)
    assert model.nelbo_bits_per_dim(x).shape == (3,) and model.loss(x).shape == ()
    samples = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (4, 3, 32, 32) and 0 <= samples.min() and samples.max() <= 1
    y = svae.dequantize(x)
    path = model.interpolate(y[:2], y[1:], steps=5)
    assert path.shape == (2, 5, 3, 32, 32)
    with torch.no_grad():  # the ends decode the posterior means of x0 and x1
        ends = model.decoder(model.encoder(y[1:])[0])[0].clamp(0, 1)
    assert torch.allclose(path[:, -1], ends, atol=1e-6)


def test_dequantize_keeps_the_pixels(svae):
    """Does (k + u) / 256 lie in [k / 256, (k + 1) / 256), so that floor(256 y) gives k back?"""
    x = random_pixels(4)
    y = svae.dequantize(x)
    assert y.dtype == torch.float32 and 0 <= y.min() and y.max() < 1
    assert torch.equal(svae.pixels_of(y), x.long())
    assert svae.dequantize(y) is y  # floats are taken as already dequantized


def stub(module: torch.nn.Module, *outputs: torch.Tensor) -> None:
    """Make `module` return fixed tensors, expanded to the batch of its input."""
    module.forward = lambda inp: tuple(o.expand(len(inp), *o.shape[1:]) for o in outputs)


def test_gaussian_bound_by_hand(svae):
    """With the decoder fixed at mean 0.5 and variance 0.04 on an image of constant 0.3, and
    the posterior at mean 1 and variance 1, is the bound's bits/dim the hand computation?"""
    model = svae.SVHNVAE("gaussian")
    stub(model.encoder, torch.ones(1, 16, 8, 8), torch.zeros(1, 16, 8, 8))
    stub(model.decoder, torch.full((1, 3, 32, 32), 0.5), torch.full((1, 3, 32, 32), math.log(0.04)))
    y = torch.full((2, 3, 32, 32), 0.3)
    # -log N(0.3; 0.5, 0.04) = 0.5 (ln 2 pi + ln 0.04 + 0.2^2 / 0.04) per value, plus ln 256
    # per value for the density on [0, 1) (the change of variables of the 1/256 scaling)
    rec = 3072 * (0.5 * (math.log(2 * math.pi) + math.log(0.04) + 1) + math.log(256))
    kl = 1024 * 0.5 * (1 + 1 - 1 - 0)  # 0.5 (m^2 + v - 1 - ln v) per latent dimension
    got_rec, got_kl = model.nelbo_terms(y)
    assert torch.allclose(got_rec, torch.tensor(rec), rtol=1e-6)
    assert torch.allclose(got_kl, torch.tensor(kl), rtol=1e-6)
    bpd = (rec + kl) / (3072 * math.log(2))
    assert abs(bpd - 7.965619) < 1e-5  # 8 - 0.274830 + 0.240449, by hand
    assert torch.allclose(model.nelbo_bits_per_dim(y), torch.tensor(bpd), rtol=1e-6)


def test_flow_prior_loss_is_finite_and_trains_the_prior(svae):
    """Is the flow-prior model's loss finite, with a gradient that reaches the PixelCNN?"""
    torch.manual_seed(0)
    model = svae.SVHNVAE("flow")
    loss = model.loss(random_pixels(4))
    assert torch.isfinite(loss) and 5 < loss.item() < 20
    loss.backward()
    assert model.prior.net.first.weight.grad.abs().sum() > 0
    assert model.sample(2).shape == (2, 3, 32, 32)


def test_flow_kl_estimate_matches_the_analytic_one(svae):
    """With the flow's output layer at zero (mu = 0, sigma = 1: the prior is N(0, I)), does
    the flow model's one-sample KL average to the Gaussian model's analytic KL?"""
    torch.manual_seed(0)
    flow, gauss = svae.SVHNVAE("flow"), svae.SVHNVAE("gaussian")
    torch.nn.init.zeros_(flow.prior.net.last.weight)
    torch.nn.init.zeros_(flow.prior.net.last.bias)
    mean = 0.5 * torch.randn(1, 16, 8, 8).expand(400, -1, -1, -1)
    log_var = (0.3 * torch.randn(1, 16, 8, 8) - 1).expand(400, -1, -1, -1)
    z = mean + torch.exp(0.5 * log_var) * torch.randn(400, 16, 8, 8)
    with torch.no_grad():
        estimates = flow.kl_nats(mean, log_var, z)  # (400,)
        exact = gauss.kl_nats(mean, log_var, z)[0]
    standard_error = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - exact) < 5 * standard_error


# ------------------------------------------------------------------------ the bonus's decoder


def test_pixelcnn_decoder_is_causal_and_its_strips_are_exact(svae):
    """Do a pixel's mixture parameters ignore that pixel and every later one, and does a strip
    of depth + 1 rows give the whole image's parameters of its last row?"""
    torch.manual_seed(0)
    model = svae.SVHNVAE("gaussian", decoder="pixelcnn")
    dec = model.decoder
    pixels = random_pixels(1).long()
    with torch.no_grad():
        features = dec.upsample(torch.randn(1, 16, 8, 8))
        base = dec.params(pixels, features)  # (1, 3, 32, 32, 15)
        bumped = pixels.clone()
        bumped[0, :, 10, 12] = 255 - bumped[0, :, 10, 12]
        moved = (dec.params(bumped, features) - base).abs().amax(dim=(0, 1, 4)) > 0  # (32, 32)
        order = torch.arange(32 * 32).view(32, 32)
        assert not moved[order <= 10 * 32 + 12].any()  # earlier positions and the pixel itself
        assert moved[10, 13] and moved[11, 12]  # its neighbours right and below do read it
        top = 20 - dec.depth
        strip = dec.params(pixels[:, :, top:21], features[:, :, top:21])
        assert torch.allclose(strip[:, :, -1], base[:, :, 20], atol=1e-5)


def test_pixelcnn_decoder_bound_and_samples(svae):
    """Is the PixelCNN model's bits/dim finite, and are its samples 8-bit images?"""
    torch.manual_seed(0)
    model = svae.SVHNVAE("flow", decoder="pixelcnn")
    bpd = model.nelbo_bits_per_dim(random_pixels(2))
    assert bpd.shape == (2,) and torch.isfinite(bpd).all() and 5 < bpd.min()
    pixels = model.decoder.sample(torch.randn(1, 16, 8, 8), torch.Generator().manual_seed(0))
    assert pixels.shape == (1, 3, 32, 32) and 0 <= pixels.min() and pixels.max() <= 255


# ------------------------------------------------------------------------------------- data


def test_full_splits_from_mat_files(tmp_path, monkeypatch):
    """With train and test .mat files, is train split 90/10 (seeded) and test kept whole?"""
    rng = np.random.default_rng(0)
    images = {}
    for split, n in (("train", 50), ("test", 7)):
        images[split] = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        labels = rng.integers(1, 11, n).astype(np.uint8)
        write_svhn_mat(tmp_path / "SVHN" / f"{split}_32x32.mat", images[split], labels, monkeypatch)
    (data,) = reference.load(HW, "svhn_vae.data")
    splits = data.svhn_splits(tmp_path)
    assert splits.source == "full" and splits.sizes() == "45 / 5 / 7"
    assert splits.train.shape == (45, 3, 32, 32) and splits.train.dtype == torch.uint8
    assert torch.equal(splits.test[6], torch.from_numpy(images["test"][..., 6]).permute(2, 0, 1))


def test_subset_splits(subset_root, capsys):
    """Without the .mat files, are the subset's 1083 images split 883 / 100 / 100, disjoint,
    with a message that says so?"""
    (data,) = reference.load(HW, "svhn_vae.data")
    splits = data.svhn_splits(subset_root)
    assert splits.source == "subset" and splits.sizes() == "883 / 100 / 100"
    assert "1083-image SVHN subset" in capsys.readouterr().out

    def keys(images: torch.Tensor) -> set:
        return {image.numpy().tobytes() for image in images}

    train, valid, test = keys(splits.train), keys(splits.valid), keys(splits.test)
    assert not (train & valid or train & test or valid & test)
    assert train | valid | test == keys(data.channels_first(data.load_svhn_subset(subset_root)))


# -------------------------------------------------------------------- scripts and benchmark


def run(args: list, cwd: Path, data_root: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        VAECOURSE_DATA=str(data_root),
        PYTHONPATH=str(REPO),
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_run_svhn_vae_dry_run_and_draw(tmp_path, subset_root):
    """Does `run_svhn_vae.py --dry-run --prior flow` train, record, save the checkpoint, the
    curves and both pictures in svhn_vae_results/flow-gaussian_dryrun/ (a real run's
    model.pt left as it was), and `--draw` redraw the pictures from the checkpoint?"""
    out = tmp_path / "svhn_vae_results" / "flow-gaussian_dryrun"
    script = SOLUTION / "run_svhn_vae.py"
    env = dict(os.environ, VAECOURSE_DATA=str(subset_root), OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = run_dry(script, "--prior", "flow", cwd=tmp_path, env=env)
    assert "(subset data set)" in proc.stdout and "Final bits/dim" in proc.stdout
    assert str(out.relative_to(tmp_path)) in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "model.pt",
        "history.json",
        "curves.png",
        "samples.png",
        "interpolations.png",
    }
    history = json.loads((out / "history.json").read_text())
    assert history["step"] == [2, 4] and all(5 < v < 20 for v in history["valid"])
    again = tmp_path / "again"
    proc = run(
        [str(script), "--draw", str(out / "model.pt"), "--out", str(again)], tmp_path, subset_root
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name for p in again.iterdir()} == {"samples.png", "interpolations.png"}


def test_step_benchmark_dry_run(tmp_path):
    """Does the homework's bench_svhn_step.py run, print its JSON line with both priors and
    write no file?"""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = run_dry(SOLUTION / "bench_svhn_step.py", cwd=tmp_path, env=env)
    assert list(tmp_path.iterdir()) == []
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["benchmark"] == "svhn_step" and set(result["median_s_per_step"]) == {
        "flow",
        "gaussian",
    }


# ---------------------------------------------------------- 300 steps on the real SVHN subset


@pytest.mark.slow
def test_svhn_vae_300_steps_lower_the_training_bits_per_dim(
    subset_root, svae, run_script, all_cores
):
    """Do 300 steps of Adam (lr 2e-4, batch 32) on the subset's 883 training images lower the
    Gaussian-prior SVHN VAE's training bits/dim by more than 1.5 (last 20 steps against the
    first 10)? Seeds 0, 1, 2 dropped by 2.65, 2.77 and 2.88 (9.23 -> 6.59, 9.26 -> 6.48,
    9.25 -> 6.37)."""
    (data,) = reference.load(HW, "svhn_vae.data")
    train = data.svhn_splits(subset_root, subset=True).train  # (883, 3, 32, 32) uint8
    torch.manual_seed(0)
    model = svae.SVHNVAE("gaussian")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    batches = run_script.image_batches(train, 32, "cpu", torch.Generator().manual_seed(0))
    losses = run_script.train_steps(model, optimizer, batches, 300, progress=False)
    assert torch.isfinite(losses).all()
    first, last = losses[:10].mean().item(), losses[-20:].mean().item()
    assert last < first - 1.5, f"bits/dim went from {first:.3f} to {last:.3f} in 300 steps"


@pytest.mark.slow
def test_fsvae_300_steps_lower_the_loss(subset_root, one_thread):
    """Do 300 steps of codebase/train.py (Adam lr 1e-3, batch 100) on the subset, with seeded
    fake labels as grader/hw_svhn/make_weights.py uses, lower the FSVAE's NELBO by more than
    1000 nats (last 20 steps against the first 10)? Seeds 0, 1, 2 dropped by 1599, 1488 and
    1637 nats (1071 -> -528, 1024 -> -464, 1102 -> -535)."""
    fsvae, train, svhn = reference.load(
        HW, "codebase.models.fsvae", "codebase.train", "codebase.svhn"
    )
    data = svhn.subset_with_fake_labels(subset_root)  # (1083, 3072) uint8, labels seeded
    torch.manual_seed(0)
    losses = train.train(fsvae.FSVAE(), data.x, data.y, 300, progress=False)
    assert torch.isfinite(losses).all()
    first, last = losses[:10].mean().item(), losses[-20:].mean().item()
    assert last < first - 1000, f"the NELBO went from {first:.1f} to {last:.1f} in 300 steps"

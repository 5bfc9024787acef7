"""Run a script's --dry-run in a folder that already holds a real run's outputs, and check that
the dry run left every one of them byte for byte as it was.

REAL_OUTPUTS lists, per script, every file its real run writes with the default flags (and
with the flags the dry-run tests pass, such as --prior flow), relative to the folder it runs
from. run_dry() plants a distinct real-looking file at each of those paths first.
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _gmvae_run(name: str, steps: tuple[int, ...], samples: bool = True) -> tuple[str, ...]:
    """The checkpoints (and sample grid) of one run of hw_gmvae_iwae_ssvae's codebase."""
    found = tuple(f"checkpoints/{name}/model-{step:05d}.pt" for step in steps)
    return found + ((f"samples/{name}.png",) if samples else ())


SVHN_VAE_FILES = ("model.pt", "history.json", "curves.png", "samples.png", "interpolations.png")
REAL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "solutions/hw_gmvae_iwae_ssvae/run_vae.py": _gmvae_run(
        "model=vae_z=10_run=0000", (10000, 20000)
    ),
    "solutions/hw_gmvae_iwae_ssvae/run_gmvae.py": _gmvae_run(
        "model=gmvae_z=10_k=500_run=0000", (10000, 20000)
    ),
    "solutions/hw_gmvae_iwae_ssvae/run_ssvae.py": _gmvae_run(
        "model=ssvae_gw=001_cw=100_run=0000", (10000, 20000, 30000), samples=False
    ),
    "solutions/hw_svhn/run_fsvae.py": (
        "checkpoints/model=fsvae_run=0000/model-10000.pt",
        "samples/model=fsvae_run=0000-0010000.png",
    ),
    "solutions/hw_svhn/run_svhn_vae.py": tuple(
        f"svhn_vae_results/{kind}/{name}"
        for kind in ("gaussian-gaussian", "flow-gaussian", "flow-pixelcnn")
        for name in SVHN_VAE_FILES
    ),
    "solutions/hw_svhn/q3_train.py": tuple(
        f"q3_results/{name}"
        for name in ("wgan.pt", "samples.png", "perturbations.png", "interpolations.png")
    ),
    "solutions/hw_svhn/bench_svhn_step.py": (),  # writes no file
    "solutions/hw_vae/q2_sweep.py": tuple(
        f"q2_results/{name}" for name in ("hellinger.png", "wasserstein.png", "estimates.json")
    ),
    "solutions/hw_vae/run_vanilla_vae.py": tuple(
        f"samples/vanilla_vae/{kind}_k{k}.{ext}"
        for k in (3, 20)
        for kind, ext in (("samples", "png"), ("reconstructions", "png"), ("results", "json"))
    ),
    "solutions/hw_vae/run_conv_vae.py": tuple(
        f"conv_vae_results/{name}"
        for name in ("curves.png", "samples.png", "interpolations.png", "history.json")
    )
    + ("conv_vae_results/conv_vae.pt",),
    "solutions/hw_vae/run_vae2d.py": tuple(
        f"vae2d_results/{name}"
        for name in (
            "partA_curves.png",
            "partA_samples.png",
            "partB_curves.png",
            "partB_samples.png",
            "partB_latents.png",
            "results.json",
        )
    ),
    "benchmarks/bench_training.py": (),  # writes no file
    "benchmarks/bench_vae_notebook.py": ("weights.pt",),  # the tests pass --save weights.pt
}


def plant(folder: Path, script: str) -> dict[Path, bytes]:
    """Write a distinct real-looking file at every path `script`'s real run writes."""
    planted = {}
    for index, relative in enumerate(REAL_OUTPUTS[script]):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"the real run's {relative} ({index}): hours of training\n".encode())
        planted[path] = path.read_bytes()
    return planted


def changed(planted: dict[Path, bytes]) -> list[str]:
    """The planted files that a run removed or rewrote."""
    return [str(p) for p, data in planted.items() if not p.is_file() or p.read_bytes() != data]


def run_dry(
    script: Path, *args: str, cwd: Path, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run `python SCRIPT --dry-run ARGS` in `cwd`, where a real run's outputs were planted
    first, and assert that it succeeded and left every one of them as it was."""
    planted = plant(cwd, script.relative_to(REPO).as_posix())
    env = dict(os.environ if env is None else env, PYTHONPATH=str(REPO))
    env.pop("VAECOURSE_CHECKPOINTS", None)  # checkpoints/ in cwd, where they were planted
    proc = subprocess.run(
        [sys.executable, str(script), "--dry-run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert changed(planted) == [], "the dry run overwrote a real run's outputs"
    return proc

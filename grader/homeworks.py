"""The homework registry: every fact the grader, the release and the tests need per homework.

A homework is one entry of HOMEWORKS. The rest of the project reads these facts from here: the
student files a submission replaces, the trusted stand-ins that keep one bug from costing
several items, the handout's autograded items with their points per tier, and the data files
each tier reads. The hidden tests' point markers must add up to `items` (a project test checks
it), so a handout's point table and the grader cannot drift apart.
"""

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("quick", "full")

# Files below the data root (coursekit.data's layout) that a tier reads.
MNIST = tuple(
    f"MNIST/raw/{split}-{kind}-ubyte.gz"
    for split in ("train", "t10k")
    for kind in ("images-idx3", "labels-idx1")
)
BINARIZED_MNIST = tuple(
    f"binarized_mnist/binarized_mnist_{split}.amat.gz" for split in ("train", "valid", "test")
)
SVHN_SUBSET = ("SVHN/svhn_train_first1083_X_nhwc_uint8.npy",)


@dataclass(frozen=True)
class Item:
    """One autograded item of a handout: its label ('1.2'), what it grades, and its points.

    quick: points that every tier grades; full: points that only the full tier grades (the
    numbers of a training run).
    """

    label: str
    title: str
    quick: float = 0.0
    full: float = 0.0


@dataclass(frozen=True)
class Homework:
    """One homework: its files, trusted stand-ins, graded items and data."""

    name: str
    title: str
    student_files: tuple[str, ...]  # paths inside the homework folder that a submission replaces
    reference_copies: dict  # trusted module file -> path inside the staged tree
    items: tuple[Item, ...]
    data: dict = field(default_factory=dict)  # tier -> files below the data root it reads
    # another name of a package that the student's files may import, -> the real one. XCS236
    # calls codebase/ src/submission/ (`from submission import utils as ut`): its files are
    # staged in codebase/ (see submission.match) and `submission` imports as `codebase`.
    aliases: dict = field(default_factory=dict)

    @property
    def modules(self) -> list[str]:
        """The student's Python files as module names, in the order they import each other."""
        return [_module(f) for f in self.student_files if f.endswith(".py")]

    @property
    def fallbacks(self) -> dict[str, str]:
        """Student module -> the trusted module that may stand in for it."""
        return {_module(src): _module(dest) for src, dest in self.reference_copies.items()}

    @property
    def solution(self) -> Path:
        """The complete homework, solutions/<hw>/: the source of the release."""
        return ROOT / "solutions" / self.name

    @property
    def release(self) -> Path:
        """The committed student folder: stubs plus every provided file."""
        return ROOT / self.name

    @property
    def tests(self) -> Path:
        """The hidden tests, grader/<hw>/."""
        return ROOT / "grader" / self.name

    def points(self, tier: str) -> dict[str, float]:
        """{item label: points} that `tier` grades (the full tier grades every item)."""
        _check_tier(tier)
        graded = {i.label: i.quick + (i.full if tier == "full" else 0.0) for i in self.items}
        return {label: points for label, points in graded.items() if points}

    def total(self, tier: str) -> float:
        """The most points a submission can earn on `tier`."""
        return sum(self.points(tier).values())

    def data_files(self, tier: str) -> tuple[str, ...]:
        """Files below the data root that grading on `tier` reads (the quick tier's too)."""
        _check_tier(tier)
        tiers = TIERS[: TIERS.index(tier) + 1]
        return tuple(f for t in tiers for f in self.data.get(t, ()))


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _check_tier(tier: str) -> None:
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}: choose one of {', '.join(TIERS)}")


HOMEWORKS = {
    "hw_gmvae_iwae_ssvae": Homework(
        name="hw_gmvae_iwae_ssvae",
        title="VAE, GMVAE, IWAE and SSVAE on MNIST",
        student_files=(
            "codebase/utils.py",
            "codebase/models/vae.py",
            "codebase/models/gmvae.py",
            "codebase/models/ssvae.py",
        ),
        reference_copies={"codebase/utils.py": "_reference/utils.py"},
        items=(
            Item("1.1", "sample_gaussian", quick=6),
            Item("1.2", "VAE.negative_elbo_bound", quick=6),
            Item("1.3", "the trained VAE's NELBO, KL and reconstruction", full=3),
            Item("2.1", "log_normal, log_normal_mixture, GMVAE.negative_elbo_bound", quick=16),
            Item("2.2", "the trained GMVAE's NELBO", full=3),
            Item("3.2", "VAE.negative_iwae_bound", quick=6),
            Item("3.3", "the trained VAE's IWAE-1 to IWAE-1000", full=3),
            Item("3.4", "GMVAE.negative_iwae_bound", quick=6),
            Item("4.1", "the SSVAE's accuracy with gw = 0", full=1),
            Item("4.2", "SSVAE.negative_elbo_bound", quick=15),
            Item("4.3", "the SSVAE's accuracy with gw = 1", full=3),
        ),
        data={"full": MNIST},
        aliases={"submission": "codebase"},
    ),
    "hw_vae": Homework(
        name="hw_vae",
        title="VAE fundamentals",
        student_files=("q1_solution.py", "q2_solution.py", "conv_vae.py", "vae2d.py"),
        # a test of one q1 helper swaps in the trusted others, which kl_gaussian_gaussian_mc
        # may call: a bug in log_likelihood_normal then costs item 1.2 only; likewise the
        # VAE2D's bounds (items 5.2, 5.3) run with the trusted decoder likelihoods (item 5.1)
        reference_copies={
            "q1_solution.py": "_reference/q1_solution.py",
            "vae2d.py": "_reference/vae2d.py",
        },
        items=(
            Item("1.1", "log_likelihood_bernoulli", quick=4),
            Item("1.2", "log_likelihood_normal", quick=4),
            Item("1.3", "log_mean_exp", quick=4),
            Item("1.4", "kl_gaussian_gaussian_analytic", quick=4),
            Item("1.5", "kl_gaussian_gaussian_mc", quick=4),
            Item("1.6", "the notebook VAE's validation ELBO", full=10),
            Item("1.7", "the notebook VAE's test log-likelihood, K = 200", full=10),
            Item("2.2", "vf_squared_hellinger", quick=4),
            Item("2.4", "vf_wasserstein_distance and lp_reg", quick=4),
            Item("4.1", "ConvVAE.calc_elbo", quick=4),
            Item("4.2", "ConvVAE.sample", quick=2),
            Item("5.1", "the 2-D decoders' log-likelihoods", quick=3),
            Item("5.2", "VAE2D's negative ELBO", quick=3),
            Item("5.3", "VAE2D's IWAE bound", quick=3),
        ),
        data={"full": BINARIZED_MNIST},
    ),
    "hw_svhn": Homework(
        name="hw_svhn",
        title="Generative models of SVHN house numbers",
        # utils.py and q2_solution.py are the files of hw_gmvae_iwae_ssvae and hw_vae (the
        # solution links to them): graded there, used here, so a student submits them again
        student_files=(
            "codebase/utils.py",
            "codebase/models/fsvae.py",
            "svhn_vae/flow.py",
            "svhn_vae/logistic.py",
            "q2_solution.py",
            "q3_solution.py",
        ),
        # trusted stand-ins: the FSVAE's helpers, the WGAN's hw_vae objectives and the masks
        # under the flow's log-density, so that a bug in one costs its own item only
        reference_copies={
            "codebase/utils.py": "_reference/utils.py",
            "q2_solution.py": "_reference/q2_solution.py",
            "svhn_vae/flow.py": "_reference/flow.py",
        },
        items=(
            Item("1.2", "FSVAE.negative_elbo_bound", quick=4),
            Item("2.1", "the PixelCNN masks", quick=3),
            Item("2.2", "the autoregressive-flow prior's log-density", quick=4),
            Item("2.B", "the discretized logistic mixture (bonus)", quick=3),
            Item("3.1", "the WGAN-LP objectives", quick=3),
            Item("3.2", "latent and data-space interpolations", quick=1),
        ),
        data={"quick": SVHN_SUBSET},
        aliases={"submission": "codebase"},
    ),
}


def get(name: str) -> Homework:
    """The homework called `name`, or an error that lists the known ones."""
    name = name.strip("/").split("/")[-1]
    if name not in HOMEWORKS:
        raise SystemExit(f"unknown homework {name!r}: choose one of {', '.join(HOMEWORKS)}")
    return HOMEWORKS[name]

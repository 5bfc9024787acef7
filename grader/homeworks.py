"""What the grader knows about each homework: its student files and where its parts live."""

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Homework:
    name: str
    student_files: tuple[str, ...]  # paths inside the homework folder that a submission replaces
    reference_copies: dict  # trusted module file -> path inside the staged tree
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
        return ROOT / "solutions" / self.name

    @property
    def release(self) -> Path:
        """The committed student folder: stubs plus every provided file."""
        return ROOT / self.name

    @property
    def tests(self) -> Path:
        return ROOT / "grader" / self.name


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


HOMEWORKS = {
    "hw_gmvae_iwae_ssvae": Homework(
        name="hw_gmvae_iwae_ssvae",
        student_files=(
            "codebase/utils.py",
            "codebase/models/vae.py",
            "codebase/models/gmvae.py",
            "codebase/models/ssvae.py",
        ),
        reference_copies={"codebase/utils.py": "_reference/utils.py"},
        aliases={"submission": "codebase"},
    ),
    "hw_vae": Homework(
        name="hw_vae",
        student_files=("q1_solution.py", "q2_solution.py", "conv_vae.py", "vae2d.py"),
        # a test of one q1 helper swaps in the trusted others, which kl_gaussian_gaussian_mc
        # may call: a bug in log_likelihood_normal then costs item 1.2 only; likewise the
        # VAE2D's bounds (items 5.2, 5.3) run with the trusted decoder likelihoods (item 5.1)
        reference_copies={
            "q1_solution.py": "_reference/q1_solution.py",
            "vae2d.py": "_reference/vae2d.py",
        },
    ),
    "hw_svhn": Homework(
        name="hw_svhn",
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
        aliases={"submission": "codebase"},
    ),
}


def get(name: str) -> Homework:
    """The homework called `name`, or an error that lists the known ones."""
    name = name.strip("/").split("/")[-1]
    if name not in HOMEWORKS:
        raise SystemExit(f"unknown homework {name!r}: choose one of {', '.join(HOMEWORKS)}")
    return HOMEWORKS[name]

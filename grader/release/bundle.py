"""The files of one release, held in memory while the steps rewrite them."""

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Never shipped: caches, and what training writes next to the code: checkpoints/, samples/,
# the run scripts' output folders (q3_results/, conv_vae_results/, ...) and their dry runs'
# (q3_results_dryrun/, see coursekit/dry_run.py).
IGNORED_DIRS = frozenset({"__pycache__", "checkpoints", "samples", ".ipynb_checkpoints"})
IGNORED_DIR_ENDINGS = ("_results", "_dryrun")
IGNORED_SUFFIXES = frozenset({".pyc"})


class ReleaseError(ValueError):
    """A homework cannot be released as it stands; the message says where and why."""


def is_ignored(relative: PurePosixPath) -> bool:
    """Is this path (relative to a homework folder) a cache or a training artifact?"""
    in_ignored_dir = any(
        part in IGNORED_DIRS or part.endswith(IGNORED_DIR_ENDINGS) for part in relative.parts[:-1]
    )
    return in_ignored_dir or relative.suffix in IGNORED_SUFFIXES


def list_files(folder: Path) -> list[PurePosixPath]:
    """Every regular file under `folder` that is not ignored, relative and sorted."""
    found = (PurePosixPath(p.relative_to(folder).as_posix()) for p in folder.rglob("*"))
    return sorted(p for p in found if (folder / p).is_file() and not is_ignored(p))


@dataclass
class Bundle:
    """One homework's release: its sources and the files the steps have made of them."""

    repo: Path  # the repository root, holding solutions/ and coursekit/
    hw: str  # the homework's folder name, e.g. "hw_gmvae_iwae_ssvae"
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)  # path in release -> bytes

    @property
    def source(self) -> Path:
        """The homework's complete solution, solutions/<hw>/."""
        return self.repo / "solutions" / self.hw

    def paths(self, suffix: str) -> list[PurePosixPath]:
        """The release's files whose name ends with `suffix` (e.g. ".py"), sorted."""
        return sorted(p for p in self.files if p.name.endswith(suffix))

    def text(self, path: PurePosixPath) -> str:
        """The file at `path` decoded as UTF-8."""
        return self.files[path].decode("utf-8")

    def set_text(self, path: PurePosixPath, text: str) -> None:
        """Replace the file at `path` with `text` encoded as UTF-8."""
        self.files[path] = text.encode("utf-8")

    def origin(self, path: PurePosixPath) -> str:
        """How an error message names the file: its path in the repository."""
        return f"solutions/{self.hw}/{path}"

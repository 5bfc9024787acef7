"""Step: ship the repository's shared package coursekit/ inside the homework folder."""

from pathlib import PurePosixPath

from .bundle import Bundle, ReleaseError, list_files

COMMON = "coursekit"  # the shared package, at the repository root and at the release's root


def copy_common(bundle: Bundle) -> None:
    """Add <repo>/coursekit/**/*.py byte for byte as <hw>/coursekit/**/*.py."""
    shared = bundle.repo / COMMON
    if not shared.is_dir():
        raise ReleaseError(f"no shared package at {shared}: every homework imports it")
    clash = sorted(p for p in bundle.files if p.parts[0] == COMMON)
    if clash:
        raise ReleaseError(
            f"{bundle.origin(clash[0])} would clash with the shared {COMMON}/: "
            f"move that code into {shared} or rename the folder"
        )
    for path in list_files(shared):
        if path.suffix == ".py":
            bundle.files[PurePosixPath(COMMON) / path] = (shared / path).read_bytes()

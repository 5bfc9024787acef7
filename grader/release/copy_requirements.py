"""Step: ship the course's one list of student packages as <hw>/requirements.txt."""

from pathlib import PurePosixPath

from .bundle import Bundle, ReleaseError

SOURCE = "requirements-student.txt"  # at the repository root, shared by every homework
TARGET = PurePosixPath("requirements.txt")  # at the release's root, where the handout runs pip


def copy_requirements(bundle: Bundle) -> None:
    """Add <repo>/requirements-student.txt byte for byte as <hw>/requirements.txt."""
    source = bundle.repo / SOURCE
    if not source.is_file():
        raise ReleaseError(
            f"no student requirements at {source}: every handout installs them with "
            "`pip install -r requirements.txt`; write the packages students need there"
        )
    if TARGET in bundle.files:
        raise ReleaseError(
            f"{bundle.origin(TARGET)} would clash with the shared {SOURCE}: every homework "
            f"ships that one; delete {bundle.origin(TARGET)} and add what it needs to {source}"
        )
    bundle.files[TARGET] = source.read_bytes()

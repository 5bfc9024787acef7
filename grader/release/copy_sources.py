"""Step: read every file of solutions/<hw>/ into the release, leaving out caches and artifacts."""

from .bundle import Bundle, ReleaseError, list_files


def copy_sources(bundle: Bundle) -> None:
    """Add each file under solutions/<hw>/ byte for byte, except the ignored ones."""
    found = list_files(bundle.source)
    if not found:
        raise ReleaseError(f"{bundle.source} holds no files: put the homework's solution there")
    for path in found:
        bundle.files[path] = (bundle.source / path).read_bytes()

"""Compare a freshly generated release with a committed one, file by file."""

import difflib
from pathlib import Path

from .bundle import list_files

DIFF_LINES = 24  # the most lines of unified diff shown for one file


def _diff(committed: bytes, generated: bytes, name: str) -> str:
    """A short unified diff from the committed to the generated text, indented."""
    try:
        old, new = committed.decode("utf-8"), generated.decode("utf-8")
    except UnicodeDecodeError:
        return " (binary file)"
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            f"committed/{name}",
            f"generated/{name}",
            n=2,
            lineterm="",
        )
    )
    if not lines:
        return " (only line endings differ)"
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... {len(lines) - DIFF_LINES} more lines of diff"]
    return "\n" + "\n".join("    " + line for line in lines)


def compare_folders(generated: Path, committed: Path) -> list[str]:
    """One report per file that is missing from, added to or different in `committed`."""
    want = set(list_files(generated))
    have = set(list_files(committed)) if committed.is_dir() else set()
    reports = []
    for path in sorted(want | have):
        if path not in have:
            reports.append(f"missing: {committed / path} (the generator writes it)")
        elif path not in want:
            reports.append(f"added: {committed / path} (the generator does not write it)")
        else:
            old, new = (committed / path).read_bytes(), (generated / path).read_bytes()
            if old != new:
                reports.append(f"differs: {committed / path}" + _diff(old, new, str(path)))
    return reports

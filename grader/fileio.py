"""Files the grader writes for others to read: written whole or not at all."""

import json
import os
from pathlib import Path

PARTIAL = ".partial-"  # prefix of a file (or folder) being written; never a finished result


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`.

    A reader sees the old file or the new one, never half of one; two writers leave one whole
    file (the last rename wins).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{PARTIAL}{os.getpid()}-{path.name}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path | None, payload: dict) -> None:
    """Write `payload` as indented JSON to `path`, atomically; nothing when `path` is None."""
    if path is not None:
        write_atomic(Path(path), json.dumps(payload, indent=2))

"""Build test submissions: the reference's student files, with text replacements applied."""

import shutil
from pathlib import Path

from grader import homeworks

REPO = Path(__file__).resolve().parent.parent
HW = "hw_gmvae_iwae_ssvae"
SOLUTION = REPO / "solutions" / HW


class StaleEdit(Exception):
    """The text to replace no longer occurs exactly once in the reference solution."""


def build(folder: Path, edits: dict | None = None, hw: str = HW) -> Path:
    """Copy the reference's student files of `hw` into `folder`; apply {file: (old, new)} edits."""
    solution = REPO / "solutions" / hw
    for f in homeworks.get(hw).student_files:
        (folder / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(solution / f, folder / f)
    for f, (old, new) in (edits or {}).items():
        text = (folder / f).read_text()
        if text.count(old) != 1:
            raise StaleEdit(
                f"{old[:60]!r} occurs {text.count(old)} times in solutions/{hw}/{f}; "
                "it must occur exactly once: update the edit"
            )
        (folder / f).write_text(text.replace(old, new))
    return folder


def scores_by_item(result) -> dict:
    """{item: (score, max score)} of a GradingResult."""
    scores: dict = {}
    for t in result.tests:
        got, top = scores.get(t.item, (0.0, 0.0))
        scores[t.item] = (got + t.score, top + t.max_score)
    return scores

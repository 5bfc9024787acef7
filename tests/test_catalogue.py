"""The grader against tests/catalogue/: every student bug costs points on its own item only, and
every correct variant keeps full marks.

The entries of hw_gmvae_iwae_ssvae keep their plain ids; those of a further homework are
prefixed with its name ("hw_vae:kl-no-half"), so that `-k hw_vae` selects one homework.

Each entry is graded once per session on the quick tier, in a pool of two spawned processes
(each process caches the reference values after its first grading); one test per entry then
reads its result, so that a failure names the entry and shows the grader's table.
"""

import importlib
import multiprocessing
import os
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from catalogue.hw_gmvae_iwae_ssvae import Entry
from submissions import HW, StaleEdit, build, scores_by_item

from grader import homeworks

# two on two cores (three were no faster: 156 s against 141 s for hw_svhn's 50 entries)
PROCESSES = int(os.environ.get("CATALOGUE_PROCESSES", 2))
# tests/catalogue/<hw>.py for every homework of the registry; CATALOGUE=all adds each one's
# further entries (MORE_BUGS, MORE_VARIANTS), beyond CI's time budget
CATALOGUES = {hw: importlib.import_module(f"catalogue.{hw}") for hw in homeworks.HOMEWORKS}
EVERYTHING = os.environ.get("CATALOGUE") == "all"


def entries(hw: str, kind: str) -> list[Entry]:
    """The BUGS or VARIANTS (kind) of a homework's catalogue, with MORE_* under CATALOGUE=all."""
    module = CATALOGUES[hw]
    return list(getattr(module, kind)) + (
        list(getattr(module, f"MORE_{kind}", ())) if EVERYTHING else []
    )


def entry_id(hw: str, entry: Entry) -> str:
    """hw_gmvae_iwae_ssvae's entries keep their plain ids; others are prefixed 'HW:'."""
    return entry.id if hw == HW else f"{hw}:{entry.id}"


ENTRIES = {
    entry_id(hw, e): e for hw in CATALOGUES for k in ("BUGS", "VARIANTS") for e in entries(hw, k)
}
BUG_IDS = [entry_id(hw, e) for hw in CATALOGUES for e in entries(hw, "BUGS")]
VARIANT_IDS = [entry_id(hw, e) for hw in CATALOGUES for e in entries(hw, "VARIANTS")]


def homework_of(entry_id: str) -> str:
    """The homework of a catalogue entry: the prefix before ':', else hw_gmvae_iwae_ssvae."""
    hw, sep, _ = entry_id.partition(":")
    return hw if sep else HW


def build_submission(entry: Entry, folder: Path, hw: str = HW) -> Path:
    """The reference's student files in `folder`, with the entry's replacement applied."""
    return build(folder, {entry.file: (entry.old, entry.new)}, hw=hw)


def grade(entry_id: str) -> dict:
    """Grade one entry on the quick tier (runs in a pool process): scores per item and table."""
    import torch

    from grader import run
    from grader.serialize import table

    torch.set_num_threads(1)  # the pool's two processes share two cores
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        try:
            submission = build_submission(ENTRIES[entry_id], Path(tmp), homework_of(entry_id))
        except StaleEdit as exc:
            return {"problem": f"the catalogue is stale: {entry_id}: {exc}"}
        try:
            result = run.main(homework_of(entry_id), submission, tier="quick")
        except Exception:  # the grader itself broke: report it on this entry, grade the others
            return {"problem": f"grading {entry_id} raised:\n{traceback.format_exc()}"}
    scores = scores_by_item(result)
    failures = {t.name: t.output for t in result.tests if not t.passed}
    return {
        "scores": scores,
        "table": table(result),
        "failures": failures,
        "seconds": time.time() - start,
    }


def selected_entries(session: pytest.Session) -> list[str]:
    """Ids of the entries whose tests this session runs (all of them unless -k narrows it)."""
    ids = []
    for item in session.items:
        spec = getattr(item, "callspec", None)
        if item.module.__name__ == __name__ and spec and "entry_id" in spec.params:
            ids.append(spec.params["entry_id"])
    return list(dict.fromkeys(ids))


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest) -> dict:
    """entry id -> grade(entry id), for every selected entry, computed once per session."""
    ids = selected_entries(request.session)
    context = multiprocessing.get_context("spawn")
    start = time.time()
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        results = dict(zip(ids, pool.map(grade, ids)))
    slowest = sorted(results.items(), key=lambda kv: -kv[1].get("seconds", 0))[:5]
    print(
        f"\ngraded {len(ids)} catalogue entries in {time.time() - start:.0f} s; slowest: "
        + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in slowest if "seconds" in v)
    )
    return results


def scores_of(result: dict) -> dict:
    """{item: (score, max score)} of a graded entry; a stale entry or a grader error fails."""
    if "problem" in result:
        pytest.fail(result["problem"])
    return result["scores"]


@pytest.mark.parametrize("entry_id", BUG_IDS)
def test_bug_is_caught_on_its_item_only(graded, entry_id):
    """Does this bug lose points on its own item while every other item keeps full marks?"""
    entry, result = ENTRIES[entry_id], graded[entry_id]
    scores = scores_of(result)
    got, top = scores[entry.item]
    assert got < top, f"{entry_id} escaped: item {entry.item} kept full marks\n{result['table']}"
    lost = {item: s for item, s in scores.items() if item != entry.item and s[0] < s[1]}
    assert not lost, f"{entry_id} also cost points on items {sorted(lost)}\n{result['table']}"
    others = [name for name in result["failures"] if not name.startswith(entry.only)]
    assert not others, f"{entry_id} also failed {others}, not only {entry.only!r}..."


@pytest.mark.parametrize("entry_id", VARIANT_IDS)
def test_variant_earns_full_marks(graded, entry_id):
    """Does this correct variant earn every point (55/55 for hw_gmvae_iwae_ssvae)?"""
    result = graded[entry_id]
    scores = scores_of(result)
    got, top = (sum(s[i] for s in scores.values()) for i in (0, 1))
    full = homeworks.get(homework_of(entry_id)).total("quick")
    assert got == top == full, f"{entry_id} lost points\n{result['table']}"

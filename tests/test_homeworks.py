"""The homework registry (grader/homeworks.py) agrees with the hidden tests and the repository."""

import contextlib
import io

import pytest

from grader import homeworks
from grader import plugin as plugin_module
from grader.homeworks import HOMEWORKS, ROOT, TIERS
from grader.plugin import Context, GradingPlugin


def collected_points(hw: str, tier: str) -> dict[str, float]:
    """{item: points} of the hidden tests that `tier` collects (nothing runs)."""
    plugin = GradingPlugin(Context(hw, tier, None, None))
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(
            [str(homeworks.get(hw).tests), "--collect-only", "-q", "-p", "no:cacheprovider"]
            + ["-o", "addopts=", "-W", "ignore::pytest.PytestAssertRewriteWarning"],
            plugins=[plugin, plugin_module],
        )
    points: dict[str, float] = {}
    for result in plugin.results:
        points[result.item] = points.get(result.item, 0.0) + result.max_score
    return {item: p for item, p in points.items() if p}


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("hw", sorted(HOMEWORKS))
def test_registry_points_are_the_hidden_tests_points(hw, tier):
    """Do the hidden tests' point markers add up, item by item, to the registry's points?"""
    assert collected_points(hw, tier) == homeworks.get(hw).points(tier)


def test_every_solution_folder_is_registered():
    """Is every homework under solutions/ in the registry, and every registered one there?"""
    folders = {p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()}
    assert folders == set(HOMEWORKS)


@pytest.mark.parametrize("hw", sorted(HOMEWORKS))
def test_student_files_and_stand_ins_exist(hw):
    """Are the student files and the sources of the trusted stand-ins in the solution?"""
    homework = homeworks.get(hw)
    for path in (*homework.student_files, *homework.reference_copies):
        assert (homework.solution / path).is_file(), path


@pytest.mark.parametrize("hw", sorted(HOMEWORKS))
def test_the_data_each_tier_reads_is_in_the_data_folder(hw, data_root):
    """Are the files the registry lists for each tier in the course's data folder?"""
    for relpath in homeworks.get(hw).data_files("full"):
        assert (data_root / relpath).is_file(), relpath


def test_points_and_tiers_are_checked():
    """Does asking for an unknown tier fail with a clear message?"""
    with pytest.raises(ValueError, match="unknown tier 'fast'"):
        homeworks.get("hw_vae").points("fast")

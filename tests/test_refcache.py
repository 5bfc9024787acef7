"""Tests of grader/refcache.py: reference statistics stored at build time, never stale."""

import importlib

import pytest
import torch

from grader import homeworks, refcache

CACHED = [
    hw
    for hw in homeworks.HOMEWORKS
    if "refcache.cached" in "".join(p.read_text() for p in homeworks.get(hw).tests.glob("*.py"))
]


@pytest.mark.parametrize("hw", CACHED)
def test_the_shipped_cache_is_current(hw):
    """Was every homework's reference cache built from the files as they are now?"""
    store = refcache.Store(hw)
    assert store.path.is_file() and not store.stale, (
        f"grader/{hw}/{refcache.CACHE_NAME} is missing or was built from other files: "
        f"rebuild it with `python -m grader.refcache build {hw}` and commit it"
    )
    assert store.values, "the cache holds no values"


def test_a_stale_or_disabled_cache_is_never_read(monkeypatch):
    """Is a cache built from other files, or switched off, ignored?"""
    hw = CACHED[0]
    monkeypatch.setattr(refcache, "fingerprint", lambda name: "something else")
    assert refcache.Store(hw).stale and not refcache.Store(hw).values
    monkeypatch.undo()
    monkeypatch.setenv(refcache.ENV_SWITCH, "off")
    assert refcache.Store(hw).stale and not refcache.Store(hw).values


def test_the_fingerprint_follows_the_files(tmp_path, monkeypatch):
    """Does changing a hidden test, a weight file or the reference change the fingerprint?"""
    hw = CACHED[0]
    before = refcache.fingerprint(hw)
    test_file = sorted(homeworks.get(hw).tests.glob("test_*.py"))[0]
    original = test_file.read_bytes()
    try:
        test_file.write_bytes(original + b"\n# changed\n")
        assert refcache.fingerprint(hw) != before
    finally:
        test_file.write_bytes(original)
    assert refcache.fingerprint(hw) == before


def test_stored_values_are_what_the_reference_computes(monkeypatch):
    """Does a stored value equal the reference's own computation (the VAE's ELBO terms)?"""
    module = importlib.import_module("grader.hw_gmvae_iwae_ssvae.test_elbo")
    stored = refcache.Store("hw_gmvae_iwae_ssvae").values
    key = next(k for k in stored if k.startswith("test_elbo.reference(") and "'vae'" in k)
    monkeypatch.setattr(refcache, "_stores", {})
    monkeypatch.setenv(refcache.ENV_SWITCH, "off")
    fresh = module.reference("vae")
    for got, want in zip(fresh, stored[key]):
        torch.testing.assert_close(got, want)

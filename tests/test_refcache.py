"""Tests of grader/refcache.py: reference statistics stored at build time, never stale."""

import importlib

import pytest
import torch

from grader import homeworks, refcache


def cached_modules() -> list[tuple[str, str]]:
    """(homework, hidden test module) for every module with a @refcache.cached function."""
    return [
        (hw, path.stem)
        for hw in homeworks.HOMEWORKS
        for path in sorted(homeworks.get(hw).tests.glob("test_*.py"))
        if "@refcache.cached" in path.read_text()
    ]


@pytest.mark.parametrize("hw, module", cached_modules())
def test_the_shipped_cache_is_current(hw, module):
    """Was every module's stored reference values built from the files as they are now?"""
    store = refcache.Store(hw)
    assert not store.stale(module), (
        f"grader/{hw}/{refcache.CACHE_NAME} holds no values of {module} built from the files "
        f"as they are now: rebuild it with `python -m grader.refcache build {hw}` and commit it"
    )
    assert store.module(module), "the cache holds no values of this module"


def test_a_stale_or_disabled_cache_is_never_read(monkeypatch):
    """Is a module's cache built from other files, or switched off, ignored?"""
    hw, module = cached_modules()[0]
    assert refcache.Store(hw).module(module)
    monkeypatch.setattr(refcache, "fingerprint", lambda hw, name: "something else")
    assert refcache.Store(hw).stale(module) and not refcache.Store(hw).module(module)
    monkeypatch.undo()
    monkeypatch.setenv(refcache.ENV_SWITCH, "off")
    assert refcache.Store(hw).stale(module) and not refcache.Store(hw).module(module)


def test_the_fingerprint_follows_the_files():
    """Does editing a test module change its fingerprint, and its fingerprint only?"""
    hw, module = cached_modules()[0]
    others = [m for h, m in cached_modules() if h == hw and m != module]
    before = {m: refcache.fingerprint(hw, m) for m in [module, *others]}
    path = homeworks.get(hw).tests / f"{module}.py"
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n# changed\n")
        refcache.fingerprint.cache_clear()
        assert refcache.fingerprint(hw, module) != before[module]
        assert all(refcache.fingerprint(hw, m) == before[m] for m in others)
    finally:
        path.write_bytes(original)
        refcache.fingerprint.cache_clear()
    assert refcache.fingerprint(hw, module) == before[module]


def test_stored_values_are_what_the_reference_computes(monkeypatch):
    """Does a stored value equal the reference's own computation (the VAE's ELBO terms)?"""
    module = importlib.import_module("grader.hw_gmvae_iwae_ssvae.test_elbo")
    stored = refcache.Store("hw_gmvae_iwae_ssvae").module("test_elbo")
    key = next(k for k in stored if k.startswith("reference(") and "'vae'" in k)
    monkeypatch.setattr(refcache, "_stores", {})
    monkeypatch.setenv(refcache.ENV_SWITCH, "off")
    fresh = module.reference("vae")
    for got, want in zip(fresh, stored[key]):
        torch.testing.assert_close(got, want)

"""Import a homework's reference solution (solutions/<hw>/) into the trusted process."""

import importlib
import sys
import threading
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"

_loaded: dict[str, dict[str, ModuleType]] = {}
_lock = threading.Lock()  # the full tier evaluates from two threads; sys.path is shared


def load(hw: str, *modules: str) -> list[ModuleType]:
    """Import `modules` (e.g. 'codebase.models.vae') from solutions/<hw>, one homework at a time.

    Homeworks reuse package names (codebase), so modules of another homework are evicted from
    sys.modules first; modules already handed out stay valid.
    """
    with _lock:
        cache = _loaded.setdefault(hw, {})
        missing = [m for m in modules if m not in cache]
        if missing:
            top = {m.split(".")[0] for m in missing}
            for name in list(sys.modules):
                if name.split(".")[0] in top:
                    del sys.modules[name]
            sys.path.insert(0, str(SOLUTIONS / hw))
            try:
                for m in missing:
                    cache[m] = importlib.import_module(m)
            finally:
                sys.path.remove(str(SOLUTIONS / hw))
        return [cache[m] for m in modules]

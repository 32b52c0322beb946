"""Compiled (mypyc) builds of the validators' hot modules, used only while they match the source.

`make native` (run by `make run` and `make test`) compiles COMPILED into build/native with
mypyc and writes a manifest holding the SHA-256 of every validators/*.py file and the
interpreter it was built for. On import, `install()` puts the compiled modules in front of
the source ones when that manifest still matches; after any change to any validator source
(compiled code also bakes in the types of the modules it imports), or on another
interpreter, the source runs, with a warning that names the command to rebuild. Both give
the same reports (tests/validators/test_native.py); the compiled ones about 1.4x faster.

FAITHGATE_NATIVE=0 turns the compiled modules off.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "native"
MANIFEST = "manifest.json"
GROUP = "faithgate_validators"  # the name of mypyc's shared library: GROUP + "__mypyc"
# What the GSM8K profile spends its time in (BENCHMARKS.md): tokens, claims, the pipeline.
COMPILED = (
    "validators/algebra/blame.py",
    "validators/algebra/linear.py",
    "validators/algebra/system.py",
    "validators/algebra/validator.py",
    "validators/arithmetic/exact.py",
    "validators/arithmetic/extract.py",
    "validators/arithmetic/locale.py",
    "validators/arithmetic/mathclaims.py",
    "validators/arithmetic/tokens.py",
    "validators/arithmetic/units.py",
    "validators/arithmetic/validator.py",
    "validators/chain/conclusions.py",
    "validators/chain/grounding.py",
    "validators/chain/linkage.py",
    "validators/chain/signals.py",
    "validators/logic/validator.py",
    "validators/pipeline.py",
    "validators/report.py",
    "validators/text/answers.py",
    "validators/text/quantities.py",
    "validators/text/mathparse.py",
    "validators/text/mathspans.py",
    "validators/text/mathtokens.py",
    "validators/text/segment.py",
)

log = logging.getLogger(__name__)
# "native" (compiled modules in use), "off" (FAITHGATE_NATIVE=0), "absent" (never built),
# "stale" (built from other sources or for another interpreter): set by install()
state = "absent"


def fingerprint() -> dict:
    """What a build is valid for: this interpreter and every validator source file, hashed."""
    sources = {
        str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((ROOT / "validators").rglob("*.py"))
    }
    return {"python": sys.implementation.cache_tag, "abi": _suffix(), "sources": sources}


def _suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


class _CompiledFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled module for each name the build holds; every other name falls through."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The spec of the built module called `name`, or None for any other name."""
        file = self.files.get(name)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(name, file)
        return importlib.util.spec_from_file_location(name, file, loader=loader)


def _built_modules(out: Path) -> dict[str, str]:
    """Module name -> extension file, for every extension under out."""
    files = {}
    for p in out.rglob(f"*{_suffix()}"):
        parts = p.relative_to(out).with_name(p.name[: -len(_suffix())]).parts
        files[".".join(parts)] = str(p)
    return files


def install(out: Path = OUT) -> str:
    """Put the compiled modules in front of the source when the build matches; returns state."""
    global state
    if os.environ.get("FAITHGATE_NATIVE", "1") == "0":
        state = "off"
        return state
    try:
        built = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        state = "absent"
        return state
    if built != fingerprint():
        state = "stale"
        log.warning(
            "build/native was compiled from other validator sources: running the (slower) "
            "source; `make native` rebuilds it"
        )
        return state
    files = _built_modules(out)
    missing = set(compiled_names()) - files.keys()
    if missing:  # a half-copied build: a module from source beside compiled ones would clash
        state = "stale"
        log.warning("build/native lacks %s: running the source; `make native`", sorted(missing))
        return state
    if not any(isinstance(f, _CompiledFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _CompiledFinder(files))
    state = "native"
    return state


def compiled_names() -> list[str]:
    """The module names a complete build holds: COMPILED and mypyc's shared library."""
    return [p.removesuffix(".py").replace("/", ".") for p in COMPILED] + [f"{GROUP}__mypyc"]

"""Optional dependencies of the dataset commands, with a one-line error when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = "pip install 'faithgate[datasets]'"


class MissingExtra(RuntimeError):
    """An optional package is not installed; the message names the pip command."""


def require(module: str, purpose: str) -> ModuleType:
    """Import `module`, or raise MissingExtra saying what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingExtra(f"{purpose} needs {top}, which is not installed: {INSTALL}") from exc

"""FAITHGATE_* names that deploy files set, checked against the real Settings fields."""

from __future__ import annotations

import re
from collections.abc import Iterable

from service.settings import Settings

_NAME = re.compile(r"\bFAITHGATE_[A-Z0-9_]+\b")


def setting_names() -> set[str]:
    """Every environment variable Settings reads (FAITHGATE_<FIELD>)."""
    return {f"FAITHGATE_{name.upper()}" for name in Settings.model_fields}


def unknown(names: Iterable[str]) -> list[str]:
    """The names that no Settings field reads (typos, removed settings)."""
    known = setting_names()
    return sorted({n for n in names if n.startswith("FAITHGATE_") and n not in known})


def names_in(text: str) -> set[str]:
    """FAITHGATE_* words in a text."""
    return set(_NAME.findall(text))

"""The signals validator: reward-hacking symptoms (warnings only, never a verdict)."""

from __future__ import annotations

import re

from validators.arithmetic.validator import step_quantities
from validators.types import Analysis, Finding

NAME = "signals"

_CONFIDENCE = re.compile(
    r"\b(?:clearly|obviously|certainly|definitely|undoubtedly|without (?:a )?doubt|"
    r"it is (?:well[- ])?known|trust me|of course|100% (?:sure|certain)|guaranteed)\b",
    re.I,
)
# In an ASCII text, once lowered, each _CONFIDENCE phrase holds one of these: a cheap test
# that spares most steps the slow case-insensitive search.
_CONFIDENCE_HINTS = re.compile(
    "clearly|obviously|certainly|definitely|undoubtedly|doubt|known|trust|course|100%|guaranteed"
)
_WORD = re.compile(r"[\w\-−]+")  # with signs: "f''(-2)" and "f''(2)" are not the same words
MIN_PADDING_STEPS = 4  # below this a chain is too short to call padded


# For ASCII text, `\w` is [A-Za-z0-9_]: every other byte made a space, and the words split out
# at C speed (the regex search was a tenth of this validator's time).
_NOT_WORD_TO_SPACE = bytes(b if chr(b).isalnum() or chr(b) in "_-" else 32 for b in range(128))
_NOT_WORD_TO_SPACE += bytes(128)  # never used: an ASCII text has no byte above 127


def _normal(text: str) -> str:
    """The words (and minus signs) of a text, lowered and joined by single spaces."""
    if text.isascii():
        return b" ".join(text.lower().encode().translate(_NOT_WORD_TO_SPACE).split()).decode()
    return " ".join(_WORD.findall(text.lower()))


def _confidence(text: str) -> re.Match | None:
    """The first confidence phrase of a text, if any."""
    if text.isascii() and _CONFIDENCE_HINTS.search(text.lower()) is None:
        return None
    return _CONFIDENCE.search(text)


class SignalsValidator:
    """Confidence words without support, repeated steps, padding: warnings for reviewers."""

    name = NAME
    version = "1.1"

    def check(self, analysis: Analysis) -> None:
        """Add warnings; never changes a verdict."""
        qs = step_quantities(analysis)
        seen: dict[str, int] = {}
        for step, q in zip(analysis.steps, qs, strict=True):
            norm = _normal(step.text)
            if len(norm) >= 12 and norm in seen:
                analysis.add(
                    Finding(
                        NAME,
                        "signals.repetition",
                        "warning",
                        f"repeats step {seen[norm]} word for word",
                        evidence={"repeats": seen[norm]},
                        step=step.index,
                    )
                )
            seen.setdefault(norm, step.index)
            m = _confidence(step.text)
            if m and not q.claims and not step.held:
                analysis.add(
                    Finding(
                        NAME,
                        "signals.unsupported_confidence",
                        "warning",
                        f'"{m.group()}" asserts certainty in a step that checks nothing',
                        evidence={"phrase": m.group()},
                        step=step.index,
                    )
                )
        self._padding(analysis, qs)

    def _padding(self, analysis: Analysis, qs: list) -> None:
        steps = analysis.steps
        if len(steps) < MIN_PADDING_STEPS:
            return
        idle = [s.index for s, q in zip(steps, qs, strict=True) if not q.numbers and not s.held]
        if len(idle) * 2 > len(steps):
            analysis.add(
                Finding(
                    NAME,
                    "signals.padding",
                    "warning",
                    f"{len(idle)} of {len(steps)} steps state nothing that can be checked",
                    evidence={"idle_steps": idle[:50]},
                )
            )

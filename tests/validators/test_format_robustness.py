"""The same reasoning written another way is judged the same way.

Models format one computation many ways: `$…$` or `\\(…\\)`, `\\cdot5` or `\\cdot 5`, bullets,
bold or numbered step labels, displays on their own lines or in brackets, a sentence a line.
Each rewrite below keeps the meaning of every real model-written chain of ../shared/data;
none may add an `error` on a step that a human (or the dataset) rated correct. This found the
misreadings that `$$`, `\\cdot5` and joining lines ("we set $$…$$ and $$…$$") used to cause.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from validators import validate

_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
_INLINE_EQUATION = re.compile(r"(?<![\\$])\$([^$\n]+?=[^$\n]+?)\$")
_COMMAND_BEFORE_OPERAND = re.compile(r"\\(cdot|times)(?=[0-9A-Za-z{(])")
_STEP_LABEL = re.compile(r"^(Step \d+:)")
_STEP_NUMBER = re.compile(r"^Step (\d+):")
_DOLLAR_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9$)])\. (?=[A-Z])")


def _bulleted(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(
        "- " + line if ("$" in line or "=" in line) and line.lstrip()[:1] not in "-*" else line
        for line in lines
    )


REWRITES: dict[str, Callable[[str], str]] = {
    "parenthesised": lambda t: _INLINE.sub(r"\\(\1\\)", t),
    "tight": lambda t: t.replace(" \\cdot ", "\\cdot").replace(" \\times ", "\\times"),
    "loose": lambda t: _COMMAND_BEFORE_OPERAND.sub(r"\\\1 ", t),
    "bulleted": _bulleted,
    "dfrac": lambda t: t.replace("\\frac", "\\dfrac"),
    "bold labels": lambda t: _STEP_LABEL.sub(r"**\1**", t),
    "displayed": lambda t: _INLINE_EQUATION.sub(lambda m: f"\n$${m.group(1)}$$\n", t),
    "bracketed displays": lambda t: _DOLLAR_DISPLAY.sub(lambda m: f"\\[{m.group(1)}\\]", t),
    "one sentence a line": lambda t: _SENTENCE_BREAK.sub(".\n", t),
    "numbered labels": lambda t: _STEP_NUMBER.sub(r"\1.", t),
}


@pytest.fixture(scope="module")
def chains(data_dir) -> list[tuple[dict, int | None]]:
    """Every model-written chain with step labels, and its first wrong step (None: correct)."""
    from bench.math_bench import sets

    return [(item.chain, item.first_error) for items in sets().values() for item in items]


def _early_errors(r: dict, first_error: int | None) -> set[int]:
    """Steps with status `error` before the labelled first error."""
    return {
        s["index"]
        for s in r["steps"]
        if s["status"] == "error" and (first_error is None or s["index"] < first_error)
    }


@pytest.fixture(scope="module")
def as_written(chains) -> list[set[int]]:
    return [_early_errors(validate(chain), first) for chain, first in chains]


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_a_rewrite_of_the_formatting_adds_no_error(chains, as_written, name):
    rewrite = REWRITES[name]
    added = []
    rewritten = 0
    for (chain, first), before in zip(chains, as_written, strict=True):
        steps = [rewrite(s) for s in chain["reasoning"]]
        if steps == chain["reasoning"]:
            continue
        rewritten += 1
        after = _early_errors(validate({**chain, "reasoning": steps}), first)
        added += [(chain["id"], i, steps[i][:200]) for i in sorted(after - before)]
    assert rewritten >= 100  # the rewrite touches many chains: the test is not vacuous
    assert added == []

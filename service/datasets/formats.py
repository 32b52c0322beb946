"""Dataset rows -> chains: faithgate's own chain format, TRL's formats, or named columns.

TRL formats (https://huggingface.co/docs/trl/dataset_formats) are recognised by their columns:
  messages            conversational: the last assistant turn is the reasoning, the user turns
                      before it the question
  prompt, completion  plain strings, or conversational lists of turns
  chosen, rejected    a preference pair (the prompt is optional: an implicit prompt is read from
                      the conversation); each side is checked as its own chain
Anything else is read through named columns (`Fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHAIN, MESSAGES, PROMPT_COMPLETION, PREFERENCE, FIELDS = (
    "chain",
    "messages",
    "prompt-completion",
    "preference",
    "fields",
)
FORMATS = (CHAIN, MESSAGES, PROMPT_COMPLETION, PREFERENCE, FIELDS)
# Chain fields that a dataset row may carry beside the mapped ones (copied when present).
_EXTRA_FIELDS = ("context", "reference_answer", "domain", "rulepack")


class RowError(ValueError):
    """A row that does not fit its format; it becomes an `input.invalid` report."""


@dataclass(frozen=True)
class Fields:
    """Which columns hold the question, reasoning, answer and id (the answer only when named)."""

    question: str = "question"
    reasoning: str = "reasoning"
    answer: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class RowFormat:
    """How to turn one row into chains: a format name and the column names."""

    kind: str = CHAIN
    fields: Fields = field(default_factory=Fields)

    def __post_init__(self) -> None:
        if self.kind not in FORMATS:
            raise ValueError(f"unknown format {self.kind!r} (one of {', '.join(FORMATS)})")


def detect(columns: list[str] | tuple[str, ...]) -> str | None:
    """The format a set of column names is in, or None when nothing fits."""
    cols = set(columns)
    if {"chosen", "rejected"} <= cols:
        return PREFERENCE
    if "messages" in cols:
        return MESSAGES
    if {"prompt", "completion"} <= cols:
        return PROMPT_COMPLETION
    if "reasoning" in cols:
        return CHAIN
    return None


def chains_of(row: Any, fmt: RowFormat, index: int | None) -> list[tuple[str | None, Any]]:
    """(role, chain) for each chain in a row; role is 'chosen'/'rejected' for a pair, else None.

    `index` is the row's 0-based position (None when unknown: the id then comes from the id
    column or is left out).
    For the chain format the row is passed on untouched (the pipeline checks it); the other
    formats raise RowError when the row lacks what they need.
    """
    if fmt.kind == CHAIN:
        return [(None, row)]
    if not isinstance(row, dict):
        raise RowError(f"{_at(index)}: a row must be a JSON object")
    row_id = _row_id(row, fmt.fields.id, index)
    if fmt.kind == PREFERENCE:
        return [
            (
                side,
                _chain(row, f"{row_id}:{side}" if row_id else side, *_pair_side(row, side, index)),
            )
            for side in ("chosen", "rejected")
        ]
    if fmt.kind == MESSAGES:
        turns = _turns(row.get("messages"), "messages", index)
        question, reasoning = _user_text(turns), _last_assistant(turns, "messages", index)
    elif fmt.kind == PROMPT_COMPLETION:
        question = _prompt_text(row.get("prompt"), index)
        reasoning = _completion_text(row.get("completion"), "completion", index)
    else:
        question, reasoning = _mapped(row, fmt.fields, index)
    chain = _chain(row, row_id, question, reasoning)
    if fmt.kind == FIELDS and fmt.fields.answer is not None:
        chain["answer"] = _optional_text(row.get(fmt.fields.answer), fmt.fields.answer, index)
    return [(None, chain)]


def _row_id(row: dict, id_field: str | None, index: int | None) -> str | None:
    # Rows of TRL datasets carry no id: the 0-based row index is what `datasets` selects by.
    if id_field is not None and row.get(id_field) is not None:
        return str(row[id_field])
    return None if index is None else f"row-{index}"


def _at(index: int | None) -> str:
    return "a row" if index is None else f"row {index}"


def _chain(row: dict, chain_id: str | None, question: str, reasoning: str) -> dict:
    chain = {"id": chain_id, "question": question, "reasoning": reasoning}
    for name in _EXTRA_FIELDS:
        if row.get(name) is not None:
            chain[name] = row[name]
    return chain


def _mapped(row: dict, fields: Fields, index: int | None) -> tuple[str, str]:
    if row.get(fields.reasoning) is None:
        raise RowError(f"{_at(index)}: no reasoning column {fields.reasoning!r}")
    reasoning = row[fields.reasoning]
    if not isinstance(reasoning, str) and not (
        isinstance(reasoning, list) and all(isinstance(s, str) for s in reasoning)
    ):
        raise RowError(f"{_at(index)}: column {fields.reasoning!r} must be text or a list of text")
    question = _optional_text(row.get(fields.question), fields.question, index) or ""
    return question, reasoning


def _optional_text(value: Any, name: str, index: int | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # numeric answer columns (e.g. SVAMP) are compared as text
    raise RowError(f"{_at(index)}: column {name!r} must be text")


def _pair_side(row: dict, side: str, index: int | None) -> tuple[str, str]:
    value = row.get(side)
    if value is None:
        raise RowError(f"{_at(index)}: no {side!r}")
    if row.get("prompt") is not None:
        return _prompt_text(row["prompt"], index), _completion_text(value, side, index)
    # Implicit prompt: the conversation itself holds the user turns.
    turns = _turns(value, side, index)
    return _user_text(turns), _last_assistant(turns, side, index)


def _prompt_text(value: Any, index: int | None) -> str:
    if isinstance(value, str):
        return value
    return _user_text(_turns(value, "prompt", index))


def _completion_text(value: Any, name: str, index: int | None) -> str:
    if isinstance(value, str):
        return value
    return _last_assistant(_turns(value, name, index), name, index)


def _turns(value: Any, name: str, index: int | None) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise RowError(f"{_at(index)}: {name!r} must be a list of turns")
    turns = []
    for k, turn in enumerate(value):
        if not isinstance(turn, dict) or not isinstance(turn.get("role"), str):
            raise RowError(f"{_at(index)}: {name}[{k}] is not a turn with a 'role'")
        turns.append((turn["role"], _content(turn.get("content"), f"{name}[{k}]", index)))
    return turns


def _content(value: Any, name: str, index: int | None) -> str:
    if isinstance(value, str):
        return value
    # Multimodal turns hold a list of parts; only the text parts carry reasoning.
    if isinstance(value, list):
        parts = [p.get("text") for p in value if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(p for p in parts if isinstance(p, str))
    raise RowError(f"{_at(index)}: {name} has no text content")


def _user_text(turns: list[tuple[str, str]]) -> str:
    last = max((k for k, (role, _) in enumerate(turns) if role == "assistant"), default=len(turns))
    return "\n\n".join(text for role, text in turns[:last] if role == "user")


def _last_assistant(turns: list[tuple[str, str]], name: str, index: int | None) -> str:
    for role, text in reversed(turns):
        if role == "assistant":
            return text
    raise RowError(f"{_at(index)}: no assistant turn in {name!r}")

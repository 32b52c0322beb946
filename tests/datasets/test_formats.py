"""TRL rows and named columns become the chains they hold; rows that do not fit say why."""

from __future__ import annotations

import pytest

from service.datasets.formats import (
    FIELDS,
    MESSAGES,
    PREFERENCE,
    PROMPT_COMPLETION,
    Fields,
    RowError,
    RowFormat,
    chains_of,
    detect,
)
from tests.datasets.support import conversation, gsm8k

ROW = gsm8k(1)[0]
TURNS = conversation(ROW)["messages"]


def test_columns_tell_the_format():
    assert detect(["messages"]) == MESSAGES
    assert detect(["prompt", "completion"]) == PROMPT_COMPLETION
    assert detect(["prompt", "chosen", "rejected"]) == PREFERENCE
    assert detect(["chosen", "rejected"]) == PREFERENCE
    assert detect(["id", "question", "reasoning"]) == "chain"
    assert detect(["text"]) is None


def test_messages_last_assistant_turn_is_the_reasoning_user_turns_the_question():
    turns = TURNS + [{"role": "user", "content": "Thanks"}]
    ((role, chain),) = chains_of({"messages": turns}, RowFormat(MESSAGES), 7)
    assert role is None
    assert chain == {"id": "row-7", "question": ROW["question"], "reasoning": ROW["answer"]}


def test_multi_turn_question_joins_user_turns_before_the_answer():
    turns = [
        {"role": "user", "content": "Natalia has 48 clips."},
        {"role": "assistant", "content": "OK."},
        {"role": "user", "content": "She sells half. How many are left?"},
        {"role": "assistant", "content": "48/2 = 24\n#### 24"},
    ]
    ((_, chain),) = chains_of({"messages": turns}, RowFormat(MESSAGES), 0)
    assert chain["question"] == "Natalia has 48 clips.\n\nShe sells half. How many are left?"
    assert chain["reasoning"] == "48/2 = 24\n#### 24"


def test_multimodal_content_parts_keep_their_text():
    turns = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "2 + 2?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "2 + 2 = 4"}]},
    ]
    ((_, chain),) = chains_of({"messages": turns}, RowFormat(MESSAGES), 0)
    assert (chain["question"], chain["reasoning"]) == ("2 + 2?", "2 + 2 = 4")


def test_prompt_completion_as_strings_and_as_conversations():
    plain = {"prompt": ROW["question"], "completion": ROW["answer"]}
    ((_, chain),) = chains_of(plain, RowFormat(PROMPT_COMPLETION), 3)
    assert (chain["question"], chain["reasoning"]) == (ROW["question"], ROW["answer"])
    talk = {"prompt": TURNS[:2], "completion": TURNS[2:]}
    ((_, chain2),) = chains_of(talk, RowFormat(PROMPT_COMPLETION), 3)
    assert chain2 == chain


def test_preference_pair_checks_chosen_and_rejected_each():
    row = {"prompt": ROW["question"], "chosen": ROW["answer"], "rejected": "48 + 24 = 70\n#### 70"}
    chains = chains_of(row, RowFormat(PREFERENCE, Fields(id="pid")), 0)
    assert [(role, c["id"]) for role, c in chains] == [
        ("chosen", "row-0:chosen"),
        ("rejected", "row-0:rejected"),
    ]
    assert chains[1][1]["reasoning"] == "48 + 24 = 70\n#### 70"
    implicit = {"chosen": TURNS, "rejected": TURNS[:2] + [{"role": "assistant", "content": "x"}]}
    (_, chosen), (_, rejected) = chains_of(implicit, RowFormat(PREFERENCE), 1)
    assert chosen["question"] == rejected["question"] == ROW["question"]
    assert rejected["reasoning"] == "x"


def test_named_columns_and_id_column():
    fmt = RowFormat(FIELDS, Fields(question="q", reasoning="sol", answer="ans", id="uid"))
    ((_, chain),) = chains_of({"q": "1 + 1?", "sol": "1 + 1 = 2", "ans": 2, "uid": 9}, fmt, 0)
    assert chain == {"id": "9", "question": "1 + 1?", "reasoning": "1 + 1 = 2", "answer": "2"}


@pytest.mark.parametrize(
    ("row", "fmt", "why"),
    [
        ({"messages": "hi"}, MESSAGES, "must be a list of turns"),
        ({"messages": [{"role": "user", "content": "q"}]}, MESSAGES, "no assistant turn"),
        ({"messages": [{"content": "q"}]}, MESSAGES, "not a turn with a 'role'"),
        ({"messages": [{"role": "assistant", "content": 5}]}, MESSAGES, "no text content"),
        ({"prompt": "q"}, PROMPT_COMPLETION, "'completion' must be a list of turns"),
        ({"prompt": "q", "chosen": "a"}, PREFERENCE, "no 'rejected'"),
        ({"question": "q"}, FIELDS, "no reasoning column 'reasoning'"),
        ({"reasoning": {"a": 1}}, FIELDS, "must be text or a list of text"),
        (["not", "an", "object"], MESSAGES, "must be a JSON object"),
    ],
)
def test_rows_that_do_not_fit_say_why(row, fmt, why):
    with pytest.raises(RowError, match=why):
        chains_of(row, RowFormat(fmt), 4)


def test_without_a_row_index_ids_come_from_the_id_column_or_are_left_out():
    talk = {"messages": TURNS, "uid": "u1"}
    assert chains_of(talk, RowFormat(MESSAGES), None)[0][1]["id"] is None
    assert chains_of(talk, RowFormat(MESSAGES, Fields(id="uid")), None)[0][1]["id"] == "u1"
    pair = {"prompt": "q", "chosen": "a", "rejected": "b"}
    assert [c["id"] for _, c in chains_of(pair, RowFormat(PREFERENCE), None)] == [
        "chosen",
        "rejected",
    ]
    with pytest.raises(RowError, match="^a row: no assistant turn"):
        chains_of({"messages": TURNS[:2]}, RowFormat(MESSAGES), None)

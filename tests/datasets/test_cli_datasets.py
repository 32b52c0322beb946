"""`faithgate validate` on training datasets: TRL rows, Parquet/Arrow, --keep, bad input."""

from __future__ import annotations

import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service.cli import main
from tests.datasets.support import altered, conversation, gsm8k, read_jsonl, write_jsonl

ROWS = gsm8k(60)


def _conversations() -> list[dict]:
    # Every fifth solution gets a wrong final answer: laundering the validators must catch.
    return [
        conversation(r, altered(r["answer"]) if k % 5 == 0 else None) for k, r in enumerate(ROWS)
    ]


def test_trl_conversations_keep_faithful_rows_unchanged(tmp_path, capsys):
    src = write_jsonl(tmp_path / "train.jsonl", _conversations())
    out = tmp_path / "reports.jsonl"
    assert main(["validate", str(src), "-o", str(out), "--keep", "faithful", "--workers", "2"]) == 0
    reports = read_jsonl(out)
    assert [r["id"] for r in reports] == [f"row-{k}" for k in range(len(ROWS))]
    assert all(reports[k]["verdict"] == "unfaithful" for k in range(0, len(ROWS), 5))
    kept_lines = (tmp_path / "train.kept.jsonl").read_text().splitlines()
    source_lines = src.read_text().splitlines()
    faithful = [k for k, r in enumerate(reports) if r["verdict"] == "faithful"]
    assert kept_lines == [source_lines[k] for k in faithful]  # byte for byte, in order
    err = capsys.readouterr().err
    assert f"{len(ROWS)} rows, {len(ROWS)} chains" in err
    assert f"kept {len(faithful)} of {len(ROWS)} rows (faithful)" in err
    assert "linkage.answer_not_derived" in err and "chains/s" in err


def test_parquet_in_parquet_out_keeps_schema_and_metadata(tmp_path):
    table = pa.Table.from_pylist(
        [
            {
                "prompt": r["question"],
                "completion": altered(r["answer"]) if k % 4 else r["answer"],
                "n": k,
            }
            for k, r in enumerate(ROWS)
        ]
    ).replace_schema_metadata({"huggingface": '{"info": {}}'})
    pq.write_table(table, tmp_path / "train.parquet", row_group_size=25)
    out, kept = tmp_path / "r.jsonl", tmp_path / "clean.parquet"
    args = ["validate", str(tmp_path / "train.parquet"), "-o", str(out), "--no-progress"]
    assert main([*args, "--keep", "not-unfaithful", "--kept-output", str(kept)]) == 0
    reports = read_jsonl(out)
    passed = [k for k, r in enumerate(reports) if r["verdict"] != "unfaithful"]
    result = pq.read_table(kept)
    assert result.schema == table.schema and result.schema.metadata == table.schema.metadata
    assert result.column("n").to_pylist() == passed
    assert 0 < len(passed) <= len(ROWS) // 4


def test_arrow_stream_as_saved_by_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(_conversations()[:10]).save_to_disk(str(tmp_path / "ds"))
    (arrow,) = (tmp_path / "ds").glob("*.arrow")
    out, kept = tmp_path / "r.jsonl", tmp_path / "kept.arrow"
    assert (
        main(
            [
                "validate",
                str(arrow),
                "-o",
                str(out),
                "--keep",
                "faithful",
                "--kept-output",
                str(kept),
            ]
        )
        == 0
    )
    reports = read_jsonl(out)
    with pa.ipc.open_stream(pa.memory_map(str(kept))) as reader:
        rows = reader.read_all().to_pylist()
    assert len(rows) == sum(r["verdict"] == "faithful" for r in reports) > 0


def test_preference_pairs_report_each_side_and_keep_on_chosen(tmp_path):
    pairs = [
        {"prompt": r["question"], "chosen": r["answer"], "rejected": altered(r["answer"])}
        for r in ROWS[:10]
    ]
    src = write_jsonl(tmp_path / "dpo.jsonl", pairs)
    out = tmp_path / "r.jsonl"
    assert main(["validate", str(src), "-o", str(out), "--keep", "faithful", "--workers", "1"]) == 0
    reports = read_jsonl(out)
    assert [r["id"] for r in reports[:4]] == [
        "row-0:chosen",
        "row-0:rejected",
        "row-1:chosen",
        "row-1:rejected",
    ]
    assert all(r["verdict"] == "unfaithful" for r in reports[1::2])
    kept = read_jsonl(tmp_path / "dpo.kept.jsonl")
    assert len(kept) == sum(r["verdict"] == "faithful" for r in reports[0::2]) > 0


def test_named_columns_read_gsm8k_as_is(tmp_path):
    src = write_jsonl(tmp_path / "g.jsonl", [{"uid": f"g{k}", **r} for k, r in enumerate(ROWS[:5])])
    out = tmp_path / "r.jsonl"
    args = [
        "validate",
        str(src),
        "-o",
        str(out),
        "--reasoning-field",
        "answer",
        "--id-field",
        "uid",
    ]
    assert main(args) == 0
    reports = read_jsonl(out)
    assert [r["id"] for r in reports] == ["g0", "g1", "g2", "g3", "g4"]
    assert reports[0]["answer"] == "72" and reports[0]["verdict"] == "faithful"


def test_bad_rows_get_their_own_report_and_are_never_kept(tmp_path):
    good = json.dumps(conversation(ROWS[0])).encode()
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(
        good
        + b"\n\n{oops\n\xff\xfe\n"
        + json.dumps({"messages": [{"role": "user", "content": "q"}]}).encode()
        + b"\n"
        + good
        + b"\n"
    )
    out = tmp_path / "r.jsonl"
    assert main(["validate", str(src), "-o", str(out), "--keep", "not-unfaithful"]) == 0
    reports = read_jsonl(out)
    assert [r["verdict"] for r in reports] == [
        "faithful",
        "unverifiable",
        "unverifiable",
        "unverifiable",
        "faithful",
    ]
    messages = [r["findings"][0]["message"] for r in reports[1:4]]
    assert "line 3: invalid JSON" in messages[0]
    assert "line 4: invalid UTF-8" in messages[1]
    assert "row 3: no assistant turn in 'messages'" in messages[2]
    assert (tmp_path / "mixed.kept.jsonl").read_bytes() == good + b"\n" + good + b"\n"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b'{"text": "hello"}\n', [], "cannot tell the format"),
        (b"PAR1 not really", ["--input-format", "parquet"], "as parquet"),
        (b'{"reasoning": "1 + 1 = 2"}\n', ["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_runs_that_cannot_start_exit_2_with_one_line(tmp_path, capsys, content, args, message):
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    assert main(["validate", str(src), "-o", str(tmp_path / "r.jsonl"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_keep_from_stdin_needs_a_kept_output(capsys, monkeypatch):
    assert main(["validate", "-", "--keep", "faithful"]) == 2
    assert "--kept-output" in capsys.readouterr().err


def test_missing_extra_names_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails as if not installed
    (tmp_path / "x.parquet").write_bytes(b"")
    assert main(["validate", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'faithgate[datasets]'" in err and "Parquet input needs pyarrow" in err

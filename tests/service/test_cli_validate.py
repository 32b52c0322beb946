"""`faithgate validate`: order kept, bad lines reported, stdin and files."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

from service.cli import main

GOOD = {"id": "a", "question": "48 clips", "reasoning": "48/2 = 24\n48 + 24 = 72\n#### 72"}
BAD = {"id": "b", "question": "q 2", "reasoning": "2 + 2 = 5"}


def test_file_in_file_out_keeps_order_and_survives_bad_lines(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        (json.dumps(GOOD) + "\n").encode()
        + b"not json\n"
        + b"\xff\xfe\n"
        + (json.dumps({"id": "c"}) + "\n").encode()
        + (json.dumps(BAD) + "\n").encode()
    )
    out = tmp_path / "out.jsonl"
    assert main(["validate", str(src), "-o", str(out), "--no-progress"]) == 0
    reports = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in reports] == [
        "faithful",
        "unverifiable",
        "unverifiable",
        "unverifiable",
        "unfaithful",
    ]
    assert "invalid JSON" in reports[1]["findings"][0]["message"]
    assert "invalid UTF-8" in reports[2]["findings"][0]["message"]
    assert "reasoning" in reports[3]["findings"][0]["message"]
    assert reports[4]["first_error_step"] == 0


def test_stdin_to_stdout_through_the_console_script():
    lines = "\n".join(json.dumps(c) for c in (GOOD, BAD)) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "service", "validate"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    ids = [json.loads(line)["id"] for line in proc.stdout.splitlines()]
    assert ids == ["a", "b"]


def test_missing_input_file_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_help_documents_the_fields(capsys):
    with contextlib.suppress(SystemExit):
        main(["validate", "--help"])
    text = capsys.readouterr().out
    for field in ("reasoning", "reference_answer", "rulepack", "first_error_step"):
        assert field in text


def test_a_first_line_without_reasoning_does_not_decide_the_format(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "c"}) + "\n" + json.dumps(GOOD) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["validate", str(src), "-o", str(out), "--no-progress", "--workers", "1"]) == 0
    reports = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in reports] == ["unverifiable", "faithful"]

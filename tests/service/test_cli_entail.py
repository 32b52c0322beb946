"""`faithgate entail`: through the installed console script and through main([...])."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".venv" / "bin" / "faithgate"

ITEMS = [
    {
        "id": "socrates",
        "premises": ["∀x (Man(x) → Mortal(x))", "Man(socrates)"],
        "conclusion": "Mortal(socrates)",
    },
    {"id": "plato", "premises": ["∀x (Man(x) → Mortal(x))"], "conclusion": "Mortal(plato)"},
    {"id": 3, "premises": ["forall x (A(x) -> B(x))", "A(c)"], "conclusion": "~B(c)"},
]


def _input_bytes() -> bytes:
    lines = [json.dumps(item, ensure_ascii=False) for item in ITEMS]
    lines.insert(2, "this is not json")
    return ("\n".join(lines) + "\n").encode() + b'{"id": "x", "premises": ["\xff"]}\n'


def _results(text: str) -> list[tuple[object, str]]:
    return [(r["id"], r["result"]) for r in map(json.loads, text.splitlines())]


EXPECTED = [
    ("socrates", "entailed"),
    ("plato", "unknown"),
    (None, "error"),
    (3, "contradicted"),
    (None, "error"),
]


@pytest.fixture(scope="module")
def script() -> Path:
    """The console script, installed into .venv when missing."""
    if not SCRIPT.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True, cwd=ROOT
        )
    assert SCRIPT.exists()
    return SCRIPT


def test_script_reads_a_file_and_writes_a_file(script: Path, tmp_path: Path) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(_input_bytes())
    done = subprocess.run(
        [str(script), "entail", str(source), "-o", str(target)], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert _results(target.read_text(encoding="utf-8")) == EXPECTED
    assert b"entailing" in done.stderr  # the progress bar, on stderr for a file


def test_script_reads_stdin_and_writes_stdout(script: Path) -> None:
    done = subprocess.run(
        [str(script), "entail"], input=_input_bytes(), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert _results(done.stdout.decode()) == EXPECTED
    assert b"entailing" not in done.stderr  # no progress bar for stdin


def test_script_help_documents_the_formats(script: Path) -> None:
    done = subprocess.run([str(script), "entail", "--help"], capture_output=True, timeout=60)
    assert done.returncode == 0
    text = done.stdout.decode()
    for word in ("premises", "conclusion", "entailed", "contradicted", "unknown", "error"):
        assert word in text


def test_main_writes_results_in_order(tmp_path: Path) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(_input_bytes())
    code = main(["entail", str(source), "-o", str(target), "--no-progress", "--timeout", "5"])
    assert code == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert _results("\n".join(lines)) == EXPECTED
    assert "line 3" in json.loads(lines[2])["message"]
    assert "UTF-8" in json.loads(lines[4])["message"]


def test_main_reports_an_unreadable_input(tmp_path: Path, capsys) -> None:
    assert main(["entail", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["entail", "--timeout", "0", str(tmp_path / "missing.jsonl")]) == 2

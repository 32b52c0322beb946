"""The hard time limit around validation: a chain that hangs the validators cannot stall a run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from training.cases import passes
from training.judge import Judge, serve, unchecked_report


def sleepy_validate(chain: dict, budget_s: float) -> dict:
    """The real validation, except that it hangs on chains asking it to (a validator bug)."""
    from validators.pipeline import validate

    if chain.get("hang"):
        time.sleep(60)
    return validate(chain, budget_s=budget_s)


def sleepy_child(conn: Any, parent: int) -> None:
    """The judge's child loop around sleepy_validate."""
    serve(conn, parent, sleepy_validate)


def test_reports_come_back_and_a_hung_validation_is_killed() -> None:
    judge = Judge(grace_s=1.0, target=sleepy_child)
    try:
        good = {"question": "Ana has 2 + 3 pens?", "reasoning": "2 + 3 = 5\n#### 5"}
        assert judge.validate(good)["verdict"] == "faithful"
        report = judge.validate({"question": "q", "reasoning": "x", "hang": True}, budget_s=0.5)
        assert report["verdict"] == "unverifiable" and judge.killed == 1
        assert "did not finish" in report["findings"][0]["message"]
        assert not passes(report)
        assert judge.validate(good)["verdict"] == "faithful"  # a fresh child took over
    finally:
        judge.close()


def test_the_unchecked_report_accuses_nobody() -> None:
    report = unchecked_report({"id": "c1"}, "why")
    assert report["id"] == "c1" and report["verdict"] == "unverifiable"
    assert report["laundering"] is False and report["first_error_step"] is None


def test_a_child_stuck_in_a_validation_dies_with_its_parent() -> None:
    import os
    import subprocess
    import sys

    # A parent that starts a judge, leaves its child hanging in a validation, and is killed.
    script = (
        "import os, sys\n"
        "from training.judge import Judge\n"
        "from tests.training.test_judge import sleepy_child\n"
        "j = Judge(target=sleepy_child)\n"
        "j.validate({'question': 'q', 'reasoning': '1 + 1 = 2'})\n"
        "j._conn.send(({'question': 'q', 'reasoning': 'x', 'hang': True}, 1.0))\n"
        "print(j._proc.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    child = int(out.stdout.strip())

    def alive() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return False
        return Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"

    deadline = time.monotonic() + 30
    while alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive()

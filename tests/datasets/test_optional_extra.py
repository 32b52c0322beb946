"""The validators and a JSON Lines run never import the optional extra (pyarrow, Ray)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from service.cli import main
from validators.pipeline import validate
validate({"question": "48 clips", "reasoning": "48/2 = 24"})
main(["validate", sys.argv[1], "-o", sys.argv[2], "--workers", "1", "--no-progress"])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pyarrow", "ray"))
print("LOADED", loaded)
"""


def test_validators_and_jsonl_runs_do_not_import_pyarrow_or_ray(tmp_path):
    src = tmp_path / "in.jsonl"
    turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "1 + 1 = 2"}]
    src.write_text(json.dumps({"messages": turns}) + "\n")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(src), str(tmp_path / "out.jsonl")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout

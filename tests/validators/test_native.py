"""The compiled validators (validators/native.py): in use after `make test`, identical to the
source on real chains, and never used once they no longer match the source."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import validators.arithmetic.tokens
from bench.corrupt import answer_altered, foreign_reasoning, load_gsm8k, reference, result_altered
from bench.math_bench import sets
from validators import native, validate

ROOT = Path(__file__).resolve().parents[2]


def test_make_test_runs_the_compiled_validators():
    assert native.state == "native", f"validators run from source ({native.state}): make native"
    for name in native.compiled_names():
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        assert Path(module.__file__).is_relative_to(native.OUT), name
    assert validators.arithmetic.tokens.__file__.endswith(native._suffix())


def _chains(data_dir: Path) -> list[dict]:
    """Real chains of every kind the benches use: GSM8K and its corruptions, the MATH sets."""
    items = load_gsm8k(data_dir / "gsm8k" / "train.jsonl", 250)
    rng = random.Random(5)
    chains = []
    for i, it in enumerate(items):
        chains.append(reference(it, i).chain)
        chains.append(answer_altered(it, i, rng).chain)
        chains.append(foreign_reasoning(it, items[(i + 3) % len(items)], i).chain)
        if (altered := result_altered(it, i, rng)) is not None:
            chains.append(altered.chain)
    for subset in sets().values():
        chains.extend(c.chain for c in subset[:40])
    return chains


_SOURCE_RUN = """
import json, sys
from validators import native, validate
assert native.state == "off", native.state
for line in sys.stdin:
    report = validate(json.loads(line), budget_s=60)
    report.pop("elapsed_ms")
    print(json.dumps(report, sort_keys=True, default=str))
"""


def test_compiled_and_source_validators_give_identical_reports(data_dir):
    chains = _chains(data_dir)
    compiled = []
    for chain in chains:
        report = validate(chain, budget_s=60)
        report.pop("elapsed_ms")
        compiled.append(json.dumps(report, sort_keys=True, default=str))
    env = dict(os.environ, FAITHGATE_NATIVE="0")
    done = subprocess.run(
        [sys.executable, "-c", _SOURCE_RUN],
        input="".join(json.dumps(c) + "\n" for c in chains),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=True,
    )
    source = done.stdout.splitlines()
    assert len(source) == len(chains) > 1000
    differ = [i for i, (a, b) in enumerate(zip(compiled, source, strict=True)) if a != b]
    assert not differ, f"{len(differ)} reports differ, first: {chains[differ[0]]}"
    # the run above compared something: flags of every kind among them
    verdicts = {json.loads(r)["verdict"] for r in source}
    assert verdicts == {"faithful", "unfaithful", "unverifiable"}


@pytest.fixture
def restore_state(monkeypatch):
    monkeypatch.setattr(native, "state", native.state)


def _build_copy(tmp_path: Path, **changes) -> Path:
    """A copy of the manifest of the real build, with some of its entries changed."""
    manifest = json.loads((native.OUT / native.MANIFEST).read_text())
    manifest.update(changes)
    (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def test_a_build_from_other_sources_is_not_used(tmp_path, restore_state, caplog):
    sources = json.loads((native.OUT / native.MANIFEST).read_text())["sources"]
    edited = dict(sources, **{"validators/arithmetic/tokens.py": "0" * 64})
    out = _build_copy(tmp_path, sources=edited)
    finders = list(sys.meta_path)
    with caplog.at_level(logging.WARNING, logger="validators.native"):
        assert native.install(out) == "stale"
    assert "make native" in caplog.text
    assert sys.meta_path == finders  # nothing added: the source runs


def test_an_incomplete_build_is_not_used(tmp_path, restore_state):
    shutil.copytree(native.OUT, tmp_path / "build")
    assert native.install(tmp_path / "build") == "native"  # the copy is whole: it would do
    next((tmp_path / "build" / "validators" / "chain").glob("linkage.*")).unlink()
    finders = list(sys.meta_path)
    assert native.install(tmp_path / "build") == "stale"
    assert sys.meta_path == finders


def test_a_build_for_another_interpreter_is_not_used(tmp_path, restore_state):
    assert native.install(_build_copy(tmp_path, python="cpython-312")) == "stale"


def test_no_build_and_the_off_switch(tmp_path, restore_state, monkeypatch):
    assert native.install(tmp_path) == "absent"
    monkeypatch.setenv("FAITHGATE_NATIVE", "0")
    assert native.install(native.OUT) == "off"


def test_the_off_switch_runs_the_source_in_a_fresh_process():
    code = (
        "import validators.arithmetic.tokens as t, validators.native as n\n"
        "print(n.state, t.__file__)"
    )
    env = dict(os.environ, FAITHGATE_NATIVE="0")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    ).stdout.split()
    assert out[0] == "off" and out[1].endswith("validators/arithmetic/tokens.py")


def test_without_a_c_compiler_the_build_says_so_and_leaves_nothing_half_built(tmp_path):
    out = tmp_path / "native"
    env = dict(os.environ, CC="false")  # a compiler that always fails
    done = subprocess.run(
        [sys.executable, "scripts/build_native.py", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0  # make run goes on, with the validators from source
    assert "compiling failed; the validators run from source" in done.stdout
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no work folder left behind

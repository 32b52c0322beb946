"""`faithgate cases export`, `faithgate adapters …` and `faithgate train` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main
from tests.service.training_support import seed_cases, tiny_train_options


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    from service.store import Store

    store = Store(f"sqlite:///{tmp_path / 'faithgate.db'}", tmp_path)
    seed_cases(store, 30)
    seed_cases(store, 2, seed=8, review=False)
    store.close()
    return tmp_path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_writes_trl_rows_without_the_held_back_cases(data_dir: Path, capsys) -> None:
    opts = ["--data-dir", str(data_dir)]
    for fmt in ("sft", "dpo", "prm"):
        out = data_dir / f"{fmt}.jsonl"
        assert main(["cases", "export", "--format", fmt, "-o", str(out), *opts]) == 0
        rows = _rows(out)
        keys = {
            "sft": {"prompt", "completion"},
            "dpo": {"prompt", "chosen", "rejected"},
            "prm": {"prompt", "completions", "labels"},
        }[fmt]
        assert rows and all(set(r) == keys for r in rows)
        manifest = json.loads((data_dir / f"{fmt}.jsonl.manifest.json").read_text())
        assert manifest["rows"] == len(rows)
        held = set(manifest["held_back_cases"])
        assert held and held.isdisjoint(manifest["sources"])
        general = any(s.startswith("general:") for s in manifest["sources"])
        assert general is (fmt != "prm")  # PRM rows come from cases only
    prm = _rows(data_dir / "prm.jsonl")
    assert all(len(r["labels"]) == len(r["completions"]) for r in prm)
    assert any(False in r["labels"] for r in prm)
    assert "wrote" in capsys.readouterr().err
    ev = data_dir / "eval.jsonl"
    assert (
        main(["cases", "export", "--format", "sft", "--split", "eval", "-o", str(ev), *opts]) == 0
    )
    eval_sources = json.loads((data_dir / "eval.jsonl.manifest.json").read_text())["sources"]
    assert set(eval_sources) <= held and not any(s.startswith("general:") for s in eval_sources)
    raw = data_dir / "cases.jsonl"
    assert (
        main(["cases", "export", "--format", "cases", "--cases", "all", "-o", str(raw), *opts]) == 0
    )
    assert len(_rows(raw)) == 32 and {"chain", "report", "reviews"} <= set(_rows(raw)[0])


def test_export_refuses_a_bad_filter(data_dir: Path, capsys) -> None:
    code = main(
        [
            "cases",
            "export",
            "--format",
            "sft",
            "--cases",
            "colour=red",
            "-o",
            str(data_dir / "x.jsonl"),
            "--data-dir",
            str(data_dir),
        ]
    )
    assert code == 2 and "bad case filter" in capsys.readouterr().err


def test_adapters_promote_and_rollback(tmp_path: Path, capsys) -> None:
    from training.registry import Registry

    registry = Registry(tmp_path / "adapters")
    for name, passed in (("fg-a", True), ("fg-b", False)):
        src = tmp_path / name
        src.mkdir()
        (src / "adapter_config.json").write_text("{}")
        (src / "adapter_model.safetensors").write_bytes(name.encode())
        registry.register(
            src, name, {"gate": {"passed": passed, "reasons": [] if passed else ["too noisy"]}}
        )
    opts = ["--data-dir", str(tmp_path)]
    assert main(["adapters", "list", *opts]) == 0
    assert "fg-a" in capsys.readouterr().out
    assert main(["adapters", "promote", "fg-b", *opts]) == 1
    assert "did not pass the gate: too noisy" in capsys.readouterr().err
    assert main(["adapters", "promote", "fg-a", *opts]) == 0
    assert registry.active() == "fg-a"
    assert main(["adapters", "rollback", *opts]) == 0
    assert registry.active() is None and "rolled back fg-a" in capsys.readouterr().out
    assert main(["adapters", "rollback", *opts]) == 1


def test_train_refuses_a_high_learning_rate_before_queueing(data_dir: Path, capsys) -> None:
    from tests.training.tiny import build

    base = build(data_dir / "tiny")
    code = main(["train", "--base", str(base), "--lr", "5e-4", "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "refused" in err and "--force" in err
    assert main(["train", "--base", str(base), "--detach", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.strip().startswith("job_")


def test_train_runs_a_job_with_a_progress_bar(data_dir: Path, capsys) -> None:
    from tests.training.tiny import build

    base = build(data_dir / "tiny")
    options = data_dir / "options.json"
    options.write_text(json.dumps(tiny_train_options()))
    code = main(
        [
            "train",
            "--base",
            str(base),
            "--cases",
            "domain=math",
            "--cycles",
            "1",
            "--name",
            "fg-cli",
            "--options",
            str(options),
            "--data-dir",
            str(data_dir),
        ]
    )
    captured = capsys.readouterr()
    assert code in (0, 3), captured.err
    assert "queued" in captured.err and "step" in captured.err  # the tqdm bar
    assert "baseline: faithfulness" in captured.out and "cycle 1:" in captured.out
    assert "adapter fg-cli:" in captured.out
    assert (data_dir / "adapters" / "fg-cli" / "faithgate.json").is_file()

"""One worker, N workers and Ray write the same reports, byte for byte but for elapsed_ms.

elapsed_ms is each chain's wall time, the one field no two runs share; `untimed` zeroes it and
the rest of every line must match exactly, in the same order.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service.cli import main
from tests.datasets.support import GSM8K, altered, conversation, gsm8k, untimed

N_CHAINS = 3000


@pytest.fixture(scope="module")
def chains_file(tmp_path_factory):
    """The first GSM8K train problems as they are, a few altered, and some broken lines."""
    path = tmp_path_factory.mktemp("same") / "gsm8k.jsonl"
    lines = GSM8K.read_bytes().splitlines(keepends=True)[:N_CHAINS]
    for k in range(0, N_CHAINS, 97):
        row = json.loads(lines[k])
        lines[k] = (json.dumps({**row, "answer": altered(row["answer"])}) + "\n").encode()
    lines[10:10] = [b"{broken\n", b"\xff\n", b'{"question": "no answer"}\n']
    path.write_bytes(b"".join(lines))
    return path


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _run(src, out, *args) -> str:
    assert main(["validate", str(src), "-o", str(out), "--no-progress", *args]) == 0
    return untimed(out.read_text())


def test_one_worker_n_workers_and_ray_agree_on_gsm8k(chains_file, tmp_path, local_ray):
    def run(name: str, *args: str) -> tuple[str, bytes]:
        kept = tmp_path / f"{name}.kept.jsonl"
        keep = ["--keep", "not-unfaithful", "--kept-output", str(kept)]
        reports = _run(
            chains_file, tmp_path / f"{name}.jsonl", "--reasoning-field", "answer", *keep, *args
        )
        return reports, kept.read_bytes()

    one, one_kept = run("one", "--workers", "1")
    assert len(one.splitlines()) == N_CHAINS + 3
    assert {json.loads(line)["verdict"] for line in one.splitlines()} == {
        "faithful",
        "unfaithful",
        "unverifiable",
    }
    assert 0 < one_kept.count(b"\n") < N_CHAINS
    assert run("two", "--workers", "2") == (one, one_kept)
    assert run("three", "--workers", "3") == (one, one_kept)
    assert run("ray", "--ray") == (one, one_kept)


def test_ray_on_parquet_keeps_the_same_rows(tmp_path, local_ray):
    rows = [
        {**conversation(r, altered(r["answer"]) if k % 3 == 0 else None), "n": k}
        for k, r in enumerate(gsm8k(300))
    ]
    src = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src, row_group_size=100)
    kept_local, kept_ray = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    keep = ["--keep", "faithful"]
    local = _run(src, tmp_path / "l.jsonl", *keep, "--kept-output", str(kept_local))
    remote = _run(src, tmp_path / "r.jsonl", *keep, "--kept-output", str(kept_ray), "--ray")
    assert remote == local
    assert pq.read_table(kept_ray).equals(pq.read_table(kept_local))
    assert 0 < pq.read_table(kept_local).num_rows < 300


def test_validate_batch_adds_report_columns_to_a_ray_dataset(local_ray):
    from service.datasets.ray_data import PASSED, REPORT_COLUMNS, REPORTS, ValidateBatch

    rows = [{**conversation(r), "uid": f"q{k}"} for k, r in enumerate(gsm8k(20))]
    ds = local_ray.data.from_items(rows).map_batches(
        ValidateBatch,
        fn_constructor_kwargs={"keep": "faithful", "id_field": "uid"},
        batch_format="pyarrow",
        compute=local_ray.data.ActorPoolStrategy(size=1),
    )
    out = ds.take_all()
    assert set(REPORT_COLUMNS) <= set(out[0])
    reports = [json.loads(r[REPORTS][0]) for r in out]
    assert [r["id"] for r in reports] == [f"q{k}" for k in range(20)]
    assert all(r["steps"] for r in reports)
    assert [r[PASSED] for r in out] == [r["verdict"] == "faithful" for r in reports]

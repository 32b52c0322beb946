"""Training jobs: the job table on both back ends, the worker process, cancel, interruption."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.engines.factory import EngineRuntime
from service.jobs import launch
from service.jobs.runner import JobRunner
from service.jobs.spec import job_config
from service.jobs.store import HOST, JobStore
from service.jobs.triggers import due_domains
from service.jobs.worker import _State, run_job
from service.metrics import Metrics
from service.ops.cases import fetch_cases, parse_filter
from service.settings import Settings
from tests.service.api_support import store_events
from tests.service.training_support import seed_cases, tiny_train_options, wait_for


def _events(store, job_id: str) -> list[str]:
    return [event for event, data, _ in store_events(store) if data.get("job_id") == job_id]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.training.tiny import build

    return build(tmp_path_factory.mktemp("tiny") / "tiny-llama")


def test_job_lifecycle_on_both_back_ends(store) -> None:
    jobs = JobStore(store)
    config = {"cases": {"status": "reviewed"}, "train": {"base": "b"}}
    job, created = jobs.create(config, triggered_by="api", dedup_key="k1", key_id="key_x")
    assert created and job["status"] == "queued" and job["config"] == config
    again, created = jobs.create(config, dedup_key="k1")
    assert not created and again["id"] == job["id"]
    assert jobs.claim(job["id"], pid=123) and not jobs.claim(job["id"])
    assert jobs.heartbeat(job["id"], {"step": 3, "total_steps": 9}) is False
    assert jobs.get(job["id"])["progress"] == {"step": 3, "total_steps": 9}
    running = jobs.request_cancel(job["id"])
    assert running["status"] == "running" and running["cancel_requested"]
    assert jobs.heartbeat(job["id"]) is True
    assert jobs.finish(job["id"], "cancelled", error="cancelled")
    assert not jobs.finish(job["id"], "succeeded")  # an ended job stays ended
    queued, _ = jobs.create(config)
    assert jobs.request_cancel(queued["id"])["status"] == "cancelled"
    page, total = jobs.list(status="cancelled")
    assert total == 2 and {j["id"] for j in page} == {job["id"], queued["id"]}
    assert store.verify_chain()["ok"]


def test_reviewed_counts_feed_the_automatic_trigger(store) -> None:
    seed_cases(store, 3, domain="math")
    seed_cases(store, 1, seed=5, domain="legal")
    seed_cases(store, 2, seed=7, domain="math", review=False)
    jobs = JobStore(store)
    counts = jobs.reviewed_counts()
    assert counts == {"math": 3, "legal": 1}
    assert due_domains(counts, jobs.trigger_marks(), 2) == ["math"]
    jobs.set_mark("math", 3, "job_x")
    assert due_domains(counts, jobs.trigger_marks(), 2) == []
    assert due_domains(counts, {}, 0) == []
    assert len(fetch_cases(store, parse_filter("domain=math,status=reviewed"))) == 3
    # A filter without a status means reviewed cases, through every door (CLI, API, hook).
    assert len(fetch_cases(store, parse_filter("domain=math"))) == 3
    assert len(fetch_cases(store, parse_filter("domain=math,status=open"))) == 2
    assert len(fetch_cases(store, parse_filter("all"))) == 6


def test_runner_marks_jobs_of_a_dead_service_interrupted(store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, training_max_jobs=0)
    runner = JobRunner(settings, store, EngineRuntime(settings, Metrics()))
    job, _ = runner.jobs.create({"cases": {}, "train": {"base": "b"}})
    runner.jobs.claim(job["id"], pid=os.getpid())  # not a worker: a restart left it running
    cli, _ = runner.jobs.create({"cases": {}, "train": {"base": "b"}}, triggered_by="cli")
    runner.jobs.claim(cli["id"], pid=os.getpid(), owner=f"{HOST}/cli")
    runner.recover()
    ended = runner.jobs.get(job["id"])
    assert ended["status"] == "interrupted" and "restarted" in ended["error"]
    assert runner.jobs.get(cli["id"])["status"] == "running"  # a CLI's job is not the service's
    other, _ = runner.jobs.create({"cases": {}, "train": {"base": "b"}})
    runner.jobs.claim(other["id"])
    settings.training_stale_s = 0.001
    wait_for(lambda: runner.jobs.stale(0.001), 5)
    runner.tick()
    assert runner.jobs.get(other["id"])["status"] == "interrupted"
    assert runner.jobs.get(cli["id"])["status"] == "interrupted"  # silent: its worker is gone
    assert runner.jobs.get(other["id"])["worker"]["host"] == HOST


def _settings(path: Path) -> Settings:
    return Settings(data_dir=path, database_url=f"sqlite:///{path / 'faithgate.db'}")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Any]:
    """The store a worker process started with _settings(tmp_path) opens too."""
    from service.settings import open_store

    store = open_store(_settings(tmp_path))
    yield store
    store.close()


def _queued(store: Any, cases: int, tiny: Path, **train: Any) -> tuple[JobStore, dict]:
    """`cases` reviewed cases in the store and a job queued on the tiny model."""
    seed_cases(store, cases)
    jobs = JobStore(store)
    job, _ = jobs.create(job_config(base=str(tiny), **train), triggered_by="cli")
    return jobs, job


def test_the_worker_process_runs_a_job_with_progress_and_audit(
    tiny: Path, tmp_path: Path, sqlite_store: Any
) -> None:
    store = sqlite_store
    options = tiny_train_options()
    jobs, job = _queued(store, 16, tiny, cycles=1, name="fg-worker", overrides=options)
    proc = launch.spawn(job["id"], _settings(tmp_path))
    proc.wait(600)
    done = jobs.get(job["id"])
    log = launch.tail(launch.log_path(tmp_path, job["id"]))
    assert done["status"] == "succeeded", log
    assert proc.returncode == 0
    assert done["worker"]["pid"] == proc.pid and done["finished_at"]
    result = done["result"]
    assert result["adapter"]["name"] == "fg-worker"
    assert result["adapter"]["status"] in ("candidate", "rejected")
    assert result["decision"]["reasons"] or result["decision"]["passed"]
    assert (tmp_path / "adapters" / "fg-worker" / "faithgate.json").is_file()
    assert Path(result["files"]["chart"]).is_file()
    progress = done["progress"]
    assert progress["step"] == progress["total_steps"] and progress["eta_s"] == 0
    assert _events(store, job["id"]) == [
        "training.job_created",
        "training.started",
        "training.data",
        "training.baseline",
        "training.cycle",
        "adapter.registered",
    ]


def test_a_cancel_request_stops_the_worker_process(
    tiny: Path, tmp_path: Path, sqlite_store: Any
) -> None:
    store = sqlite_store
    # Long enough that it is still running when the cancel arrives.
    options = tiny_train_options(sft={"max_steps": 20})
    jobs, job = _queued(store, 12, tiny, cycles=50, overrides=options)
    proc = launch.spawn(job["id"], _settings(tmp_path))
    wait_for(lambda: (jobs.get(job["id"])["progress"] or {}).get("step", 0) >= 1, 300)
    jobs.request_cancel(job["id"])
    proc.wait(120)
    done = jobs.get(job["id"])
    assert done["status"] == "cancelled", launch.tail(launch.log_path(tmp_path, job["id"]))
    assert "training.cancelled" in _events(store, job["id"])
    assert not (tmp_path / "adapters").exists() or not any((tmp_path / "adapters").iterdir())


def test_a_worker_whose_parent_died_marks_its_job_interrupted(
    tiny: Path, tmp_path: Path, sqlite_store: Any
) -> None:
    store = sqlite_store
    jobs, job = _queued(store, 8, tiny, overrides=tiny_train_options())
    state = _State()
    state.parent_gone = True  # what the stdin watcher sets when the pipe closes
    state.stop.set()
    assert run_job(store, job["id"], tmp_path, state) == 3
    done = jobs.get(job["id"])
    assert done["status"] == "interrupted" and "went away" in done["error"]


def test_a_worker_is_recognised_by_its_command_line_not_its_pid(tmp_path: Path) -> None:
    import subprocess

    # argv as the worker's: "-m service.jobs.worker JOB_ID" (here a sleeping stand-in).
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "service.jobs.worker", "job_1"]
    )
    try:
        wait_for(lambda: launch.is_worker(proc.pid, "job_1"), 10)  # once exec has happened
        assert not launch.is_worker(proc.pid, "job_2")
        assert not launch.is_worker(os.getpid(), "job_1")
        assert not launch.is_worker(None, "job_1")
    finally:
        proc.kill()
        proc.wait()
    assert not launch.is_worker(proc.pid, "job_1")

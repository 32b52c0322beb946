"""Decoding several requests together: one forward pass per token for the whole batch.

On a CPU, SmolLM2-135M's forward pass over several rows costs little more than over one (the
Python and kernel overhead of 30 layers dominates), so decoding concurrent requests together
multiplies throughput: 2.4 times with 8 rows, 3.8 with 16 (`python -m bench.batch_bench`,
BENCHMARKS.md "Model hosting: continuous batching"). Prompts are left-padded, with an
attention mask and positions counted per row; every row keeps its own sampling, stop sequences,
log-probabilities, stream and cancellation, and leaves the batch (and the KV cache) as soon as it
finishes.

Greedy answers agree with one-at-a-time decoding up to float rounding: padding changes the shape
of the matrix products, so a near-tie between two tokens can, rarely, resolve the other way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.engines.base import Generation, SamplingParams, cut_at_stop
from service.engines.streaming import CANCELLED, TextEmitter, cancelled

_STOP_WINDOW_TOKENS = 16  # tokens decoded past the longest stop sequence when checking for it


@dataclass(eq=False)
class DecodeRequest:
    """One prompt to continue, the state of its decoding, and its result once done."""

    ids: list[int]
    adapter: str | None
    params: SamplingParams
    room: int  # tokens left in the model's context after the prompt
    emitter: TextEmitter | None = None
    cancel: threading.Event | None = None
    out_ids: list[int] = field(default_factory=list)
    chosen_lp: list[float] = field(default_factory=list)
    tops: list[dict[str, float]] = field(default_factory=list)
    eos: int | None = None
    stopped: bool = False  # cancelled by its caller
    result: Generation | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def fail(self, error: BaseException) -> None:
        """End the request with an error (raised in the thread that waits for it)."""
        self.error = error
        self.done.set()


Admit = Callable[[int], list[DecodeRequest]]  # up to n more requests to join a running batch


@dataclass(frozen=True)
class ForwardArgs:
    """How a model's forward pass names its KV cache, and whether it can keep only last logits."""

    cache: str  # transformers 5.2x renamed `past_key_values` (argument and output) to `cache`
    keep_last: bool  # `logits_to_keep`: a prefill's logits for the last position only

    @classmethod
    def of(cls, model: Any) -> ForwardArgs:
        """Read from the base model, before any adapter: PEFT's wrapper hides them in **kwargs."""
        import inspect

        params = inspect.signature(model.forward).parameters
        return cls("cache" if "cache" in params else "past_key_values", "logits_to_keep" in params)


class BatchDecoder:
    """The decoding loop of one model: a batch of requests, one token per row per pass.

    With `admit`, requests that arrive while the batch decodes join it between two passes
    (continuous batching): their prompts are prefilled on their own, then their KV cache is
    left-padded to the batch's length and appended to it.
    """

    def __init__(
        self, model: Any, tokenizer: Any, device: str, forward: ForwardArgs, eos: set[int]
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.cache_arg = forward.cache
        self.eos = eos
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else min(eos, default=0)
        # Only the last position's logits are needed: the whole prompt's would be rows x length
        # x vocabulary floats (hundreds of MB for a batch of SmolLM2 prompts).
        self.keep_last = {"logits_to_keep": 1} if forward.keep_last else {}

    def run(self, requests: list[DecodeRequest], admit: Admit | None = None, size: int = 1) -> None:
        """Decode every request (and those `admit` adds, up to `size` rows) to its end."""
        import torch

        with torch.inference_mode():
            batch = self._prefill(requests, torch)
            # A cache that cannot be left-padded (sliding windows) takes no one new.
            grows = admit is not None and batch.joinable()
            while batch.rows:
                if grows and len(batch.rows) < size:
                    joining = admit(size - len(batch.rows))  # type: ignore[misc]
                    if joining:
                        batch = batch.merge(self._prefill(joining, torch), torch)
                if batch.rows:
                    batch = self._step(batch, torch)

    def _prefill(self, requests: list[DecodeRequest], torch: Any) -> _Batch:
        """The prompts' forward pass (left-padded) and each row's first token."""
        rows = [_Row(self, r, torch) for r in requests]
        longest = max(len(r.ids) for r in requests)
        pads = [longest - len(r.ids) for r in requests]
        input_ids = torch.tensor(
            [[self.pad_id] * n + r.ids for n, r in zip(pads, requests, strict=True)],
            device=self.device,
        )
        mask = torch.tensor(
            [[0] * n + [1] * len(r.ids) for n, r in zip(pads, requests, strict=True)],
            device=self.device,
        )
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        output = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **self.keep_last,
        )
        batch = _Batch(rows, getattr(output, self.cache_arg), mask, positions[:, -1:])
        return batch.advance(output.logits[:, -1].float(), torch)

    def _step(self, batch: _Batch, torch: Any) -> _Batch:
        """One token for every row of the batch."""
        input_ids = torch.tensor([[row.last] for row in batch.rows], device=self.device)
        mask = torch.cat([batch.mask, batch.mask.new_ones((len(batch.rows), 1))], dim=-1)
        positions = batch.positions + 1
        output = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self.cache_arg: batch.kv},
        )
        batch = _Batch(batch.rows, getattr(output, self.cache_arg), mask, positions)
        return batch.advance(output.logits[:, -1].float(), torch)


@dataclass
class _Batch:
    """Rows being decoded, their KV cache, attention mask (over the cache) and last positions."""

    rows: list[_Row]
    kv: Any
    mask: Any
    positions: Any

    def advance(self, logits: Any, torch: Any) -> _Batch:
        """Each row takes its next token; finished rows leave the batch and the cache."""
        going = [j for j, row in enumerate(self.rows) if row.advance(logits[j])]
        kept = set(going)
        for j, row in enumerate(self.rows):
            if j not in kept:
                row.finish()
        if len(going) == len(self.rows):
            return self
        if not going:
            return _Batch([], None, None, None)
        index = torch.tensor(going, device=self.mask.device)
        self.kv.batch_select_indices(index)
        rows = [self.rows[j] for j in going]
        return _Batch(rows, self.kv, self.mask[index], self.positions[index])

    def joinable(self) -> bool:
        """Whether rows can be appended: every cache layer is a plain growing one."""
        from transformers.cache_utils import DynamicLayer

        return all(type(layer) is DynamicLayer for layer in getattr(self.kv, "layers", [None]))

    def merge(self, other: _Batch, torch: Any) -> _Batch:
        """This batch and `other` as one: caches and masks left-padded to a common length."""
        if not other.rows:
            return self
        pad = torch.nn.functional.pad
        length = max(self.mask.shape[-1], other.mask.shape[-1])
        for mine, theirs in zip(self.kv.layers, other.kv.layers, strict=True):
            grow_mine, grow_theirs = length - mine.keys.shape[-2], length - theirs.keys.shape[-2]
            mine.keys = torch.cat(
                [pad(mine.keys, (0, 0, grow_mine, 0)), pad(theirs.keys, (0, 0, grow_theirs, 0))]
            )
            mine.values = torch.cat(
                [pad(mine.values, (0, 0, grow_mine, 0)), pad(theirs.values, (0, 0, grow_theirs, 0))]
            )
        mask = torch.cat(
            [
                pad(self.mask, (length - self.mask.shape[-1], 0)),
                pad(other.mask, (length - other.mask.shape[-1], 0)),
            ]
        )
        positions = torch.cat([self.positions, other.positions])
        return _Batch(self.rows + other.rows, self.kv, mask, positions)


class _Row:
    """A request's place in the batch: picks its tokens and decides when it is done."""

    def __init__(self, decoder: BatchDecoder, request: DecodeRequest, torch: Any) -> None:
        self.decoder = decoder
        self.request = request
        self.torch = torch
        params = request.params
        self.max_tokens = min(params.max_tokens, request.room)
        self.stop = [s for s in params.stop or [] if s]
        self.window = max((len(s) for s in self.stop), default=0) + _STOP_WINDOW_TOKENS
        self.generator = None
        if params.temperature > 0:
            self.generator = torch.Generator(device=decoder.device)
            seed = params.seed if params.seed is not None else int.from_bytes(os.urandom(7))
            self.generator.manual_seed(seed)
        self.last = -1

    def advance(self, logits: Any) -> bool:
        """Take the next token from this row's logits; False once the row is done."""
        r, p, tokenizer = self.request, self.request.params, self.decoder.tokenizer
        token = pick(self.torch, logits, p.temperature, p.top_p, self.generator)
        if p.wants_logprobs:
            lp = self.torch.log_softmax(logits, dim=-1)
            r.chosen_lp.append(float(lp[token]))
            if p.top_logprobs:
                values, indices = self.torch.topk(lp, p.top_logprobs)
                r.tops.append(self._top(values, indices))
        if token in self.decoder.eos:
            r.eos = token
            return False
        r.out_ids.append(token)
        self.last = token
        if self.stop:
            tail = tokenizer.decode(r.out_ids[-self.window :], skip_special_tokens=True)
            if any(s in tail for s in self.stop):
                return False
        if r.emitter is not None:  # decoding the whole text keeps multi-token characters
            r.emitter.update(tokenizer.decode(r.out_ids, skip_special_tokens=True))
        if cancelled(r.cancel):
            r.stopped = True
            return False
        return len(r.out_ids) < self.max_tokens

    def finish(self) -> None:
        """Build the request's Generation and wake its caller."""
        r = self.request
        r.result = self._result()
        if r.stopped:
            r.result.finish_reason = CANCELLED
        r.done.set()

    def _result(self) -> Generation:
        r, tokenizer = self.request, self.decoder.tokenizer
        text = tokenizer.decode(r.out_ids, skip_special_tokens=True)
        text, cut = cut_at_stop(text, self.stop)
        generation = Generation(
            text=text,
            finish_reason="stop" if cut or r.eos is not None else "length",
            prompt_tokens=len(r.ids),
            # The end-of-sequence token was generated too, though it is not part of the text.
            completion_tokens=len(r.out_ids) + (r.eos is not None),
        )
        if r.params.wants_logprobs:
            pieces = [tokenizer.decode([t]) for t in r.out_ids]
            if r.eos is not None:
                pieces.append(tokenizer.decode([r.eos]))
            if cut:  # keep the tokens that make up the returned text
                pieces = _cover(pieces, len(text))
            generation.tokens = pieces
            generation.token_logprobs = r.chosen_lp[: len(pieces)]
            generation.top_logprobs = r.tops[: len(pieces)] if r.tops else None
        return generation

    def _top(self, values: Any, indices: Any) -> dict[str, float]:
        top: dict[str, float] = {}
        for v, i in zip(values.tolist(), indices.tolist(), strict=True):
            top.setdefault(self.decoder.tokenizer.decode([i]), float(v))
        return top


def pick(torch: Any, logits: Any, temperature: float, top_p: float, generator: Any) -> int:
    """The next token: argmax at temperature 0, else a nucleus sample."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < top_p  # always keeps the first
        sorted_probs = sorted_probs * keep
        choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=generator))


def _cover(pieces: list[str], length: int) -> list[str]:
    """The shortest prefix of token texts whose concatenation reaches `length` characters."""
    total = 0
    for i, piece in enumerate(pieces):
        if total >= length:
            return pieces[:i]
        total += len(piece)
    return pieces

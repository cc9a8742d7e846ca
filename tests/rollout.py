"""Builders for rollout lines, written from the format doc (docs/counting.md), for fixtures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import zstandard

from store.fields import CACHED, INPUT, OUTPUT, REASONING

T0 = "2025-10-24T07:44:35.755Z"


def usage(
    inp: int,
    cached: int,
    out: int,
    reasoning: int,
    total: int | None = None,
    cache_write: int | None = None,
) -> dict:
    """A TokenUsage; ``cache_write`` (>= 0.145) only when given."""
    vector = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out if total is None else total,
    }
    if cache_write is not None:
        vector["cache_write_input_tokens"] = cache_write
    return vector


def line(ts: str, kind: str, payload: dict, **extra) -> dict:
    return {"timestamp": ts, **extra, "type": kind, "payload": payload}


def meta(ts: str = T0, sid: str = "019a152d-35a0-72a0-91db-8ebe37fac69e", **payload) -> dict:
    body = {"id": sid, "timestamp": ts, "cwd": "/home/u/p", "cli_version": "0.47.0", **payload}
    return line(ts, "session_meta", body)


def turn(ts: str, model: str = "gpt-5-codex", **payload) -> dict:
    return line(ts, "turn_context", {"cwd": "/home/u/p", "model": model, **payload})


def token_count(ts: str, total: dict | None, last: dict | None = None, **extra) -> dict:
    info = None
    if total is not None or last is not None:
        info = {"total_token_usage": total, "last_token_usage": last, "model_context_window": 1}
    return line(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": {}}, **extra)


def task_started(ts: str, **extra) -> dict:
    return line(ts, "event_msg", {"type": "task_started", "turn_id": "t"}, **extra)


def message(ts: str, text: str) -> dict:
    content = [{"type": "input_text", "text": text}]
    return line(ts, "response_item", {"type": "message", "role": "user", "content": content})


def encode(lines: list[dict | bytes]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)


def write(path: Path, lines: list[dict | bytes], *, compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode(lines)
    if compress:
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def session_path(home: Path, stamp: str, uuid: str, *, archived: bool = False) -> Path:
    """rollout file name as Codex writes it (the stamp is the writer's local time)."""
    name = f"rollout-{stamp}-{uuid}.jsonl"
    if archived:
        return home / "archived_sessions" / name
    y, m, d = stamp[:4], stamp[5:7], stamp[8:10]
    return home / "sessions" / y / m / d / name


# -- additions for the counting-rule suites (format doc sections 2-6) ---------------------------
#
# Everything below is written from the format doc, not from the collector: eras, the raw shapes of
# token_count rows (last missing, ``{}``, estimates, counter resets), a thread that emits rows the
# way codex core does, and small helpers that run the parser or a whole scan over a fixture.

OMIT = object()  # leave a key out of a line altogether
WINDOW = 258400  # model_context_window of the real 2025 files


def at(text: str) -> str:
    """``"2025-10-24 10:00:05.25"`` -> ``"2025-10-24T10:00:05.250Z"``: UTC, ms and Z, as Codex."""
    day, _, clock = text.partition(" ")
    whole, _, frac = clock.partition(".")
    return f"{day}T{whole}.{(frac + '000')[:3]}Z"


def ms(ts: str) -> int:
    """UTC milliseconds of an ISO timestamp with ``Z`` (the way a test computes expectations)."""
    return round(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def only_total(total_tokens: int) -> dict:
    """An estimate: only ``total_tokens`` is set, every other component 0 (doc 4, cases 4/5)."""
    return usage(0, 0, 0, 0, total_tokens)


def token_info(total=OMIT, last=OMIT, *, window: int = WINDOW, **extra) -> dict:
    """A token_count ``info`` whose keys can be left out (OMIT), null (None) or ``{}``."""
    info: dict = {}
    if total is not OMIT:
        info["total_token_usage"] = total
    if last is not OMIT:
        info["last_token_usage"] = last
    info["model_context_window"] = window
    info.update(extra)
    return info


def token_event(ts: str, info: dict | None, *, rate_limits=OMIT, **extra) -> dict:
    """A token_count event_msg with a raw ``info``; ``rate_limits`` absent unless given (0.34)."""
    payload: dict = {"type": "token_count", "info": info}
    if rate_limits is not OMIT:
        payload["rate_limits"] = rate_limits
    return line(ts, "event_msg", payload, **extra)


# Rate-limit shapes of the eras (doc 2). Plan quota, never tokens.
RATE_LIMITS_047 = {
    "primary": {"used_percent": 12.0, "window_minutes": 299, "resets_in_seconds": 4000},
    "secondary": {"used_percent": 47.0, "window_minutes": 10079, "resets_in_seconds": 90000},
}
RATE_LIMITS_050 = {
    "primary": {"used_percent": 12.0, "window_minutes": 299, "resets_at": 1761629637},
    "secondary": {"used_percent": 47.0, "window_minutes": 10079, "resets_at": 1762129889},
}
RATE_LIMITS_050_EARLY = {
    "primary_used_percent": 12.0,
    "secondary_used_percent": 47.0,
    "primary_to_secondary_ratio_percent": 25.0,
    "primary_window_minutes": 299,
    "secondary_window_minutes": 10079,
}
RATE_LIMITS_2026 = {
    "limit_id": "codex",
    "limit_name": None,
    "primary": {"used_percent": 3.0, "window_minutes": 300, "resets_at": 1775660000},
    "secondary": {"used_percent": 20.0, "window_minutes": 10080, "resets_at": 1776000000},
    "credits": None,
    "plan_type": "plus",
}


def legacy_lines(ts: str = "2025-09-06T00:46:49.621Z") -> list[dict]:
    """A legacy (<= early Sep 2025) file: no envelope, no token usage at all."""
    return [
        {
            "id": "0006b370-3ba0-4783-b4ad-22ce45b53420",
            "timestamp": ts,
            "instructions": "AGENTS.md text",
            "git": {"commit_hash": "e421928e", "branch": "main", "repository_url": "git@x:y"},
        },
        {"type": "message", "id": None, "role": "user", "content": [{"type": "input_text"}]},
        {"record_type": "state"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAA"},
        {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        {"record_type": "state"},
    ]


def meta_034(ts: str, sid: str) -> dict:
    """0.34: enveloped session_meta with no ``source``."""
    body = {"id": sid, "timestamp": ts, "cwd": "/home/u/p", "originator": "codex_cli_rs"}
    return line(ts, "session_meta", {**body, "cli_version": "0.34.0", "instructions": None})


def meta_2026(
    ts: str, sid: str, cli_version: str = "0.118.0", *, ordinal: int | None = None, **payload
) -> dict:
    """A 2026 session_meta (0.98+): base_instructions, model_provider, originator codex-tui."""
    body = {
        "id": sid,
        "timestamp": ts,
        "cwd": "/home/u/p",
        "originator": "codex-tui",
        "cli_version": cli_version,
        "source": "cli",
        "model_provider": "openai",
        "base_instructions": {"text": "You are Codex."},
        **payload,
    }
    extra = {} if ordinal is None else {"ordinal": ordinal}
    return line(ts, "session_meta", body, **extra)


def turn_2026(ts: str, model: str | None = "gpt-5.3-codex", settings_model=OMIT, **extra) -> dict:
    """A 2026 turn_context: effort, personality, collaboration_mode{mode, settings{model}}.

    ``model=None`` leaves the top-level ``model`` out (the collaboration_mode fallback of R8).
    """
    settings = {"reasoning_effort": "high", "developer_instructions": "be brief"}
    if settings_model is not OMIT:
        settings["model"] = settings_model
    payload = {
        "cwd": "/home/u/p",
        "approval_policy": "on-request",
        "sandbox_policy": {"type": "workspace-write", "network_access": False},
        "effort": "high",
        "summary": "auto",
        "personality": "pragmatic",
        "collaboration_mode": {"mode": "default", "settings": settings},
        "user_instructions": "AGENTS.md",
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "turn_id": "019d6d67-0000-7000-8000-000000000001",
        "current_date": "2026-04-08",
        "timezone": "Asia/Shanghai",
    }
    if model is not None:
        payload["model"] = model
    ordinal = extra.pop("ordinal", None)
    env = {} if ordinal is None else {"ordinal": ordinal}
    return line(ts, "turn_context", {**payload, **extra}, **env)


def event(ts: str, kind: str, **payload) -> dict:
    """Any other event_msg (agent_message, task_complete...); ``ordinal=`` goes on the envelope."""
    ordinal = payload.pop("ordinal", None)
    env = {} if ordinal is None else {"ordinal": ordinal}
    return line(ts, "event_msg", {"type": kind, **payload}, **env)


def token_usage_record(
    ts: str,
    usage_: dict,
    *,
    thread_id: str = "t",
    response_id: str = "resp_1",
    thread_usage: dict | None = None,
    **extra,
) -> dict:
    """>= 0.153: one per model response, alongside the token_count rows (doc 6b)."""
    payload = {
        "thread_id": thread_id,
        "turn_id": "u",
        "session_id": "s",
        "root_turn_id": "u",
        "response_id": response_id,
        "usage": usage_,
        "turn_token_usage": usage_,
        "thread_token_usage": usage_ if thread_usage is None else thread_usage,
    }
    return line(ts, "token_usage_record", payload, **extra)


def settings_applied(ts: str, tier=OMIT, **extra) -> dict:
    """>= 0.144: thread_settings_applied; ``service_tier`` left out unless given (R15)."""
    settings = {"model": "gpt-5.5", "model_provider_id": "openai", "cwd": "/home/u/p"}
    if tier is not OMIT:
        settings["service_tier"] = tier
    return event(ts, "thread_settings_applied", thread_id="t", thread_settings=settings, **extra)


def trigger(ts: str, trigger_turn: bool, kind: str = "inter_agent_communication_metadata", **extra):
    """The marker that ends a V2 subagent's copied prefix when ``trigger_turn`` is true (R18)."""
    return line(ts, kind, {"trigger_turn": trigger_turn, "message": "private"}, **extra)


def compacted_2026(ts: str, response_id: str, latest: dict | None = None, **extra) -> dict:
    """A 0.154+ compaction marker; ``latest`` is its latest_token_usage_record (a copy)."""
    payload = {
        "message": "summary",
        "replacement_history": [],
        "window_number": 2,
        "compaction_response_id": response_id,
        "latest_token_usage_record": latest,
    }
    return line(ts, "compacted", payload, **extra)


def compacted(ts: str) -> dict:
    return line(ts, "compacted", {"message": "summary", "replacement_history": []})


def spawn_source(parent: str, depth: int = 1) -> dict:
    """``source`` of a subagent spawned by ``parent`` (thread_spawn)."""
    spawn = {"parent_thread_id": parent, "depth": depth, "agent_nickname": "n", "agent_role": "r"}
    return {"subagent": {"thread_spawn": spawn}}


def vec4(u: dict) -> tuple[int, int, int, int]:
    return (
        u["input_tokens"],
        u["cached_input_tokens"],
        u["output_tokens"],
        u["reasoning_output_tokens"],
    )


class Thread:
    """One thread's counter, emitting token_count rows the way codex core does (doc 4).

    ``respond``: total += last, emit. ``reemit``: the same info again (new rate-limit headers).
    ``context_full``: set_total_tokens_full. ``estimate``: recompute_token_usage after compaction.
    ``extra`` keys (``ordinal=``) go on the line envelope; ``rate_limits`` on every row.
    """

    def __init__(self, rate_limits=OMIT, total: dict | None = None, window: int = WINDOW) -> None:
        self.rate_limits = rate_limits
        self.window = window
        self.total = dict(total) if total else usage(0, 0, 0, 0)
        self.last: dict | None = None
        #: The per-response vectors (input, cached, output, reasoning) of genuine responses.
        self.calls: list[tuple[int, int, int, int]] = []

    def _row(self, ts: str, last, **extra) -> dict:
        info = token_info(dict(self.total), last, window=self.window)
        return token_event(ts, info, rate_limits=self.rate_limits, **extra)

    def respond(
        self,
        ts: str,
        inp: int,
        cached: int,
        out: int,
        reasoning: int = 0,
        cache_write: int | None = None,
        **extra,
    ):
        self.last = usage(inp, cached, out, reasoning, cache_write=cache_write)
        if cache_write is not None:
            self.total.setdefault("cache_write_input_tokens", 0)
        self.total = {k: self.total[k] + self.last.get(k, 0) for k in self.total}
        self.calls.append((inp, cached, out, reasoning))
        return self._row(ts, dict(self.last), **extra)

    def reemit(self, ts: str, **extra) -> dict:
        return self._row(ts, dict(self.last) if self.last else None, **extra)

    def context_full(self, ts: str, **extra) -> dict:
        previous = self.total["total_tokens"]
        self.total = only_total(self.window)
        self.last = only_total(self.window - previous)
        return self._row(ts, dict(self.last), **extra)

    def estimate(self, ts: str, tokens: int, **extra) -> dict:
        self.last = only_total(tokens)
        return self._row(ts, dict(self.last), **extra)

    @property
    def final(self) -> tuple[int, int, int, int]:
        return vec4(self.total)

    @property
    def summed(self) -> tuple[int, int, int, int]:
        """What a correct count adds up to: the sum of the genuine responses."""
        return tuple(sum(c[i] for c in self.calls) for i in range(4))  # type: ignore[return-value]


# -- running the collector over fixtures --------------------------------------------------------


def feed_all(lines: list[dict | bytes]):
    """Feed lines to a fresh RolloutParser, as a whole read; return (parser, responses)."""
    from collector.parse import RolloutParser

    parser = RolloutParser()
    responses = []
    for raw in encode(lines).split(b"\n")[:-1]:
        response = parser.feed(raw)
        if response is not None:
            responses.append(response)
    return parser, responses + parser.finish()


def parts(r) -> tuple[int, int, int, int]:
    """(input, cached, output, reasoning) of a Response or a scanner row."""
    if isinstance(r, tuple):
        return r[INPUT], r[CACHED], r[OUTPUT], r[REASONING]
    return r.input, r.cached, r.output, r.reasoning


def summed(items) -> tuple[int, int, int, int]:
    """Component sums over Responses or scanner rows."""
    vecs = [parts(r) for r in items]
    return tuple(sum(v[i] for v in vecs) for i in range(4))  # type: ignore[return-value]


def scan_home(home: Path):
    """All rows of a CODEX_HOME (one process) and the scan's stats."""
    from collector.scan import ReadPlan

    plan = ReadPlan(home)
    rows = [row for result in plan.results(workers=1) for row in result.rows]
    return sorted(rows), plan.stats


def session_of(thread_id: str) -> str:
    """The ``session`` hash a row of this Codex thread carries (default key)."""
    from collector.keys import DEFAULT_KEY, session_hash

    return session_hash(thread_id, DEFAULT_KEY)

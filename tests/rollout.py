"""Builders for rollout lines, written from the format doc (docs/counting.md), for small fixtures."""

from __future__ import annotations

from pathlib import Path

import orjson
import zstandard

T0 = "2025-10-24T07:44:35.755Z"


def usage(inp: int, cached: int, out: int, reasoning: int, total: int | None = None) -> dict:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out if total is None else total,
    }


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

"""Grow a few rollouts of a corpus by new genuine responses, and put them back afterwards.

An incremental sync is only worth measuring on growth that looks like Codex's own: a resumed
session appending turns to its file, totals continuing from the file's last token_count, in the
file's own era shape (rate limits, ordinals, usage records where the file has them).
"""

from __future__ import annotations

import base64
import calendar
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


@dataclass
class Grown:
    """What was appended (to check the store) and how to undo it."""

    files: list[tuple[Path, int, float]] = field(default_factory=list)  # path, size, mtime
    responses: list[tuple[int, str, int, int, int, int]] = field(default_factory=list)
    bytes_added: int = 0
    #: Files written from nothing (a new session), and folders made for them: removed again.
    created: list[Path] = field(default_factory=list)

    def restore(self) -> None:
        """Cut every grown file back to its old length and mtime; remove what was created."""
        for path, size, mtime in self.files:
            with path.open("r+b") as fh:
                fh.truncate(size)
            os.utime(path, (mtime, mtime))
        for path in reversed(self.created):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)

    def totals(self) -> dict[str, int]:
        sums = {"input": 0, "cached": 0, "output": 0, "reasoning": 0}
        for _, _, i, c, o, r in self.responses:
            sums["input"] += i
            sums["cached"] += c
            sums["output"] += o
            sums["reasoning"] += r
        return sums


@dataclass
class Tail:
    """The state at the end of a rollout that new lines must continue from."""

    total: dict[str, int]
    last: dict[str, int]
    model: str
    turn_context: dict[str, Any] | None
    rate_limits: dict[str, Any] | None
    ordinal: int | None
    last_ms: int
    usage_records: bool
    thread_id: str


def candidates(home: Path) -> list[Path]:
    """Plain active rollouts ending in a whole line, largest first."""
    out = []
    for path in home.glob("sessions/**/rollout-*.jsonl"):
        if path.with_name(path.name + ".zst").exists():
            continue
        if (home / "archived_sessions" / path.name).exists():
            continue
        with path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                continue
        out.append(path)
    return sorted(out, key=lambda p: (-p.stat().st_size, p.name))


def read_tail(path: Path) -> Tail | None:
    """The file's last usage state, or None for files without usage (legacy, empty)."""
    total = last = model = tc = limits = ordinal = None
    last_ms = 0
    records = False
    thread_id = ""
    forked = False
    for raw in path.read_bytes().split(b"\n"):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("payload"), dict):
            continue
        payload = obj["payload"]
        ordinal = obj.get("ordinal", ordinal)
        kind = obj.get("type")
        if kind == "session_meta" and not thread_id:
            thread_id = payload.get("id", "")
            forked = "forked_from_id" in payload or isinstance(payload.get("source"), dict)
        elif kind == "turn_context":
            tc, model = payload, payload.get("model") or model
        elif kind == "token_usage_record":
            records = True
        elif kind == "event_msg" and payload.get("type") == "token_count" and payload.get("info"):
            total = payload["info"]["total_token_usage"]
            last = payload["info"].get("last_token_usage") or {}
            limits = payload.get("rate_limits")
        stamp = obj.get("timestamp")
        if isinstance(stamp, str):
            last_ms = max(last_ms, iso_ms(stamp))
    if total is None or forked:
        return None
    return Tail(
        total, last or {}, model or "unknown", tc, limits, ordinal, last_ms, records, thread_id
    )


def iso_ms(stamp: str) -> int:
    secs = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(stamp[20:23] or 0)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Appender:
    """Writes new turns onto one rollout in its own shape."""

    def __init__(self, tail: Tail, rng: random.Random, pool: str) -> None:
        self.t = tail
        self.rng = rng
        self.pool = pool
        self.now = tail.last_ms + rng.randint(3_600, 86_400) * 1000
        self.lines: list[bytes] = []
        self._last = dict(tail.last)

    def line(self, type_: str, payload: dict[str, Any]) -> None:
        self.now += self.rng.randint(5, 4_000)
        doc: dict[str, Any] = {"timestamp": iso(self.now)}
        if self.t.ordinal is not None:
            self.t.ordinal += 1
            doc["ordinal"] = self.t.ordinal
        doc["type"] = type_
        doc["payload"] = payload
        self.lines.append(orjson.dumps(doc) + b"\n")

    def text(self, n: int) -> str:
        at = self.rng.randrange(len(self.pool) - n)
        return self.pool[at : at + n]

    def token_count(self, last: dict[str, int]) -> None:
        payload: dict[str, Any] = {
            "type": "token_count",
            "info": {
                "total_token_usage": dict(self.t.total),
                "last_token_usage": last,
                "model_context_window": 258_400,
            },
        }
        if self.t.rate_limits is not None:
            payload["rate_limits"] = self.t.rate_limits
        self.line("event_msg", payload)

    def response(self, grown: Grown) -> None:
        rng = self.rng
        if self.t.rate_limits is not None:  # the re-emit that opens every request
            self.token_count(dict(self._last))
        self.line(
            "response_item",
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAA" + self.text(3_000)},
        )
        self.line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": f"call_{rng.getrandbits(64):016x}",
                "output": self.text(rng.randint(2_000, 12_000)),
            },
        )
        inp = rng.randint(20_000, 120_000)
        cached = inp - rng.randint(500, 5_000)
        out = rng.randint(50, 3_000)
        reasoning = rng.randint(0, out)
        last = {k: 0 for k in self.t.total}
        last.update(zip(KEYS, (inp, cached, out, reasoning), strict=True))
        last["total_tokens"] = inp + out
        for k, v in last.items():
            self.t.total[k] = self.t.total.get(k, 0) + v
        self._last = last
        if self.t.usage_records:  # written just before its token_count, as Codex does (R13)
            self.line(
                "token_usage_record",
                {
                    "thread_id": self.t.thread_id,
                    "response_id": f"resp_{rng.getrandbits(64):016x}",
                    "usage": last,
                    "thread_token_usage": dict(self.t.total),
                },
            )
        self.token_count(last)
        grown.responses.append((self.now, self.t.model, inp, cached, out, reasoning))

    def turn(self, grown: Grown, responses: int) -> None:
        if self.t.turn_context is not None:
            self.line("turn_context", self.t.turn_context)
        self.line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": self.text(400)}],
            },
        )
        for _ in range(responses):
            self.response(grown)


def grow(home: Path, budget: int, *, files: int = 4, seed: int = 1) -> Grown:
    """Append about ``budget`` bytes of new turns to a few large plain files."""
    rng = random.Random(seed)
    pool = base64.b64encode(rng.randbytes(300_000)).decode()
    grown = Grown()
    chosen = []
    for path in candidates(home):
        tail = read_tail(path)
        if tail is not None:
            chosen.append((path, tail))
        if len(chosen) == files:
            break
    for i, (path, tail) in enumerate(chosen):
        share = (budget - grown.bytes_added) // (len(chosen) - i)
        stat = path.stat()
        app = Appender(tail, rng, pool)
        size = 0
        while size < share:
            before = len(app.lines)
            app.turn(grown, rng.randint(3, 12))
            size += sum(len(x) for x in app.lines[before:])
        grown.files.append((path, stat.st_size, stat.st_mtime))
        with path.open("ab") as fh:
            fh.write(b"".join(app.lines))
        grown.bytes_added += size
    return grown


def newest(home: Path) -> Path:
    """The most recent root rollout (plain, not a fork or a subagent): the newest era's shape."""
    for path in sorted(home.glob("sessions/*/*/*/rollout-*.jsonl"), key=lambda p: p.name)[::-1]:
        if read_tail(path) is not None:
            return path
    raise ValueError(f"no plain root rollout with usage under {home}/sessions")


def new_session(home: Path, *, size: int = 11_000, seed: int = 1) -> Grown:
    """Write one new session of about ``size`` bytes in the shape of the newest rollout (its
    meta, turn context, rate limits, ordinals and usage records), started after it, in the day
    folder of its start: what Codex leaves after one short session."""
    rng = random.Random(seed)
    model_path = newest(home)
    tail = read_tail(model_path)
    assert tail is not None  # (newest() checked)
    meta = orjson.loads(model_path.read_bytes().split(b"\n", 1)[0])
    thread = _uuid7(rng, tail.last_ms)
    zero = {k: 0 for k in tail.total}
    tail = Tail(
        dict(zero),
        dict(zero),
        tail.model,
        tail.turn_context,
        tail.rate_limits,
        -1 if tail.ordinal is not None else None,
        tail.last_ms,
        tail.usage_records,
        thread,
    )
    app = Appender(tail, rng, base64.b64encode(rng.randbytes(60_000)).decode())
    start = app.now
    payload = {**meta["payload"], "id": thread, "session_id": thread, "timestamp": iso(start)}
    if isinstance(payload.get("base_instructions"), dict):  # (kept short: the file is ~size)
        payload["base_instructions"] = {"text": app.text(600)}
    app.line("session_meta", payload)
    grown = Grown()
    while not grown.responses or sum(map(len, app.lines)) < size:
        app.turn(grown, rng.randint(1, 3))
    day = time.gmtime(start // 1000)
    folder = home / "sessions" / time.strftime("%Y/%m/%d", day)
    for parent in (folder.parent.parent, folder.parent, folder):
        if not parent.exists():
            parent.mkdir()
            grown.created.append(parent)
    path = folder / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', day)}-{thread}.jsonl"
    data = b"".join(app.lines)
    path.write_bytes(data)
    grown.created.append(path)
    grown.bytes_added = len(data)
    return grown


def _uuid7(rng: random.Random, ms: int) -> str:
    """A version-7 uuid for ``ms``, as Codex names threads."""
    raw = ms.to_bytes(6, "big") + rng.randbytes(10)
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{'89ab'[rng.randrange(4)]}{h[17:20]}-{h[20:32]}"

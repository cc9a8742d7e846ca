"""Counting rules for one Codex rollout file: lines in, counted model responses out.

Pure: no files, no clock, no network. ``RolloutParser.feed`` takes one line (bytes) at a time and
returns a ``Response`` for each genuine model response, ``None`` for everything else. The rules
(R1-R11 in docs/counting.md) are applied here and nowhere else.

Only whitelisted fields are ever read: timestamps, line types, session ids and lineage, the model
name, ordinals and the token vectors. Prompt text, paths, git data and the rest are never looked at.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

#: input, cached, output, reasoning, total_tokens
Vec = tuple[int, int, int, int, int]

#: How many recent cumulative vectors a file remembers to drop late (out-of-order) re-emits.
RECENT_TOTALS = 32

#: Model names are free text in the logs (local models can be named by a path): anything that does
#: not look like a model name is replaced, so a name can never carry a path or a sentence.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+@()\-/]{0,79}$")
CUSTOM_MODEL = "custom"
UNKNOWN_MODEL = "unknown"

#: The usage-bearing line types, recognised from the head of a line without parsing it. Codex writes
#: ``{"timestamp":..,["ordinal":..,]"type":..,"payload":{"type":..``: types sit near the start.
HEAD_WINDOW = 320
HEAD = re.compile(
    rb'"type"\s*:\s*"(?:session_meta|turn_context)"'
    rb'|"payload"\s*:\s*\{\s*"type"\s*:\s*"(?:token_count|task_started)"'
)


@dataclass(slots=True)
class Response:
    """One counted model response (a delta, never a cumulative figure)."""

    ts_ms: int
    model: str
    input: int
    cached: int
    output: int
    reasoning: int
    #: What the event id hashes: timestamp plus cumulative and last vectors. Equal for the same
    #: row read from a copy, an archive or a fork that kept the original timestamps.
    identity: bytes
    #: Cumulative vector after this response, used to recognise rows a child copied from its parent.
    total: Vec | None


@dataclass(slots=True)
class FileMeta:
    """Identity and lineage of a rollout, from its own (first) session_meta line."""

    thread_id: str | None = None
    #: Root thread of a tree of subagents (newer logs write it as ``session_id``).
    root_id: str | None = None
    #: The thread this one was forked or spawned from.
    parent_id: str | None = None
    started_ms: int | None = None
    #: A fork or a subagent: its file may begin with a copy of the parent's history.
    child: bool = False
    #: Lines with an ``ordinal`` below this were copied from the parent.
    history_start: int | None = None
    #: Spawned by another thread (a helper agent, a review): its usage belongs to the root session.
    #: A fork is a child too, but a conversation of its own.
    subagent: bool = False


def parse_meta(payload: dict, ts_ms: int | None) -> FileMeta:
    source = payload.get("source")
    spawn = None
    subagent = isinstance(source, dict) and "subagent" in source
    if subagent and isinstance(source["subagent"], dict):
        spawn = source["subagent"].get("thread_spawn")
    parent = _str(payload.get("forked_from_id")) or _str(payload.get("parent_thread_id"))
    if isinstance(spawn, dict):
        parent = parent or _str(spawn.get("parent_thread_id"))
    history_start = payload.get("subagent_history_start_ordinal")
    if history_start is None:
        history_start = payload.get("forked_from_ordinal_exclusive")
    thread_source = payload.get("thread_source")
    subagent = subagent or thread_source in ("subagent", "guardian_review")
    child = bool(parent or subagent or history_start)
    started = timestamp_ms(payload.get("timestamp"))
    thread_id = _str(payload.get("id"))
    root_id = _str(payload.get("session_id"))
    return FileMeta(
        thread_id=thread_id,
        root_id=root_id if root_id and root_id != thread_id else None,
        parent_id=parent,
        started_ms=started if started is not None else ts_ms,
        child=child,
        history_start=history_start if isinstance(history_start, int) else None,
        subagent=subagent,
    )


@dataclass
class RolloutParser:
    """Streaming state machine over the lines of one rollout file.

    The state survives between runs (``to_state``/``from_state``) so a grown file is read on from
    where the last run stopped, with the same result as a full read.
    """

    meta: FileMeta = field(default_factory=FileMeta)
    model: str | None = None
    prev_total: Vec | None = None
    recent: list[Vec] = field(default_factory=list)
    #: A child file is in its copied-history prefix until its first own turn or response.
    in_replay: bool = True
    replay_second: int | None = None
    skipped: Counter = field(default_factory=Counter)

    # -- lines ------------------------------------------------------------------------------

    def feed(self, line: bytes) -> Response | None:
        """Read one line (without its newline); return the response it records, if any."""
        if not HEAD.search(line, 0, HEAD_WINDOW):
            return None  # prompts, tool output, legacy lines: never parsed
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.skipped["not UTF-8" if not _is_utf8(line) else "invalid JSON"] += 1
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("payload"), dict):
            self.skipped["no envelope"] += 1
            return None
        payload = obj["payload"]
        kind = obj.get("type")
        ts_ms = timestamp_ms(obj.get("timestamp"))
        if kind == "session_meta":
            if self.meta.thread_id is None:
                self.meta = parse_meta(payload, ts_ms)
                self.in_replay = self.meta.child
            return None  # later metas are the parent's, embedded in a fork
        ordinal = obj.get("ordinal")
        inherited_by_ordinal = self._inherited_by_ordinal(ordinal)
        if kind == "turn_context":
            self._turn_context(payload, ts_ms, inherited_by_ordinal)
            return None
        if kind != "event_msg":
            return None
        if payload.get("type") == "task_started":
            self._own_turn_marker(ts_ms, inherited_by_ordinal)
            return None
        if payload.get("type") != "token_count":
            return None
        return self._token_count(payload, ts_ms, inherited_by_ordinal)

    def _turn_context(self, payload: dict, ts_ms: int | None, inherited: bool | None) -> None:
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            mode = payload.get("collaboration_mode")
            settings = mode.get("settings") if isinstance(mode, dict) else None
            model = settings.get("model") if isinstance(settings, dict) else None
        if isinstance(model, str) and model:
            self.model = clean_model(model)
        self._own_turn_marker(ts_ms, inherited)

    def _own_turn_marker(self, ts_ms: int | None, inherited: bool | None) -> None:
        """A turn that starts after the copied prefix ends a child's replay."""
        if not self.in_replay or inherited:
            return
        if inherited is False or (ts_ms is not None and not self._in_replay_window(ts_ms)):
            self.in_replay = False

    def _token_count(self, payload: dict, ts_ms: int | None, inherited: bool | None):
        info = payload.get("info")
        if not isinstance(info, dict):
            return None  # rate limits only (R3)
        total = _vec(info.get("total_token_usage"))
        last = _vec(info.get("last_token_usage"))
        if total is None and last is None:
            self.skipped["no token figures"] += 1
            return None
        prev = self.prev_total
        if total is not None:
            if total == prev:
                self.skipped["re-emitted"] += 1  # R4
                return None
            if total in self.recent:
                self.skipped["re-emitted late"] += 1
                return None
            self.prev_total = total
            self.recent.append(total)
            del self.recent[:-RECENT_TOTALS]
        if ts_ms is None:
            self.skipped["no timestamp"] += 1
            return None
        if self.in_replay and self.meta.child:
            if inherited or (inherited is None and self._in_replay_window(ts_ms)):
                self.skipped["copied from parent"] += 1  # R10
                return None
            self.in_replay = False
        delta = _delta(total, last, prev)
        inp, cached, out, reasoning = (max(0, x) for x in delta[:4])  # R7
        cached = min(cached, inp)
        reasoning = min(reasoning, out)
        if not (inp or cached or out or reasoning):
            self.skipped["estimate only"] += 1  # R6
            return None
        model = self.model or _fallback_model(info, payload) or UNKNOWN_MODEL
        return Response(
            ts_ms, model, inp, cached, out, reasoning, _identity(ts_ms, total, last), total
        )

    # -- forks and subagents ----------------------------------------------------------------

    def _inherited_by_ordinal(self, ordinal) -> bool | None:
        """True/False when ordinals decide (rule 1 of forks), None when they cannot."""
        start = self.meta.history_start
        if start is None or not isinstance(ordinal, int):
            return None
        return ordinal < start

    def _in_replay_window(self, ts_ms: int) -> bool:
        """Copied rows carry the parent's (earlier) timestamps or the spawn second (rule 3)."""
        started = self.meta.started_ms
        if started is None:
            return True
        second = ts_ms // 1000
        if second <= started // 1000:
            return True
        if self.replay_second is None and second == started // 1000 + 1:
            self.replay_second = second  # a burst that spilled into the next second
        return second == self.replay_second

    # -- state for incremental reads --------------------------------------------------------

    def to_state(self) -> dict:
        m = self.meta
        return {
            "meta": [
                m.thread_id,
                m.root_id,
                m.parent_id,
                m.started_ms,
                m.child,
                m.history_start,
                m.subagent,
            ],
            "model": self.model,
            "prev_total": self.prev_total,
            "recent": self.recent,
            "in_replay": self.in_replay,
            "replay_second": self.replay_second,
        }

    @classmethod
    def from_state(cls, state: dict) -> RolloutParser:
        prev = state.get("prev_total")
        return cls(
            meta=FileMeta(*state["meta"]),
            model=state.get("model"),
            prev_total=tuple(prev) if prev else None,
            recent=[tuple(v) for v in state.get("recent", [])],
            in_replay=state.get("in_replay", True),
            replay_second=state.get("replay_second"),
        )


# -- small pure helpers -----------------------------------------------------------------------


def clean_model(name: str) -> str:
    name = name.strip()
    return name if _MODEL_NAME.match(name) and not name.startswith("/") else CUSTOM_MODEL


def _fallback_model(info: dict, payload: dict) -> str | None:
    for value in (info.get("model"), info.get("model_name"), payload.get("model")):
        if isinstance(value, str) and value:
            return clean_model(value)
    return None


def _delta(total: Vec | None, last: Vec | None, prev: Vec | None) -> Vec:
    """R5: the response's own usage."""
    if last is not None:
        return last
    assert total is not None
    if prev is None:
        return total
    diff = tuple(t - p for t, p in zip(total, prev, strict=True))
    return total if any(d < 0 for d in diff[:4]) else diff  # a counter reset restarts from 0


def _vec(usage) -> Vec | None:
    if not isinstance(usage, dict) or not usage:
        return None
    g = usage.get
    return (
        _int(g("input_tokens")),
        _int(g("cached_input_tokens")),
        _int(g("output_tokens")),
        _int(g("reasoning_output_tokens")),
        _int(g("total_tokens")),
    )


def _int(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e18:
        return int(value)
    return 0


def _identity(ts_ms: int, total: Vec | None, last: Vec | None) -> bytes:
    def fmt(v: Vec | None) -> str:
        return ",".join(map(str, v)) if v is not None else "-"

    return f"{ts_ms}|{fmt(total)}|{fmt(last)}".encode()


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None


def timestamp_ms(value) -> int | None:
    """UTC milliseconds from an ISO 8601 string, or from a number of seconds or milliseconds."""
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            return None
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return round(ts.timestamp() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return int(value if value > 1e11 else value * 1000)
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True

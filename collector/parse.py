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

import msgspec
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
#: How every line begins as Codex writes it (compact JSON), up to the opening quote of its type.
COMPACT_HEAD = rb'\{"timestamp":"[^"\n]{0,40}",(?:"ordinal":\d+,)?"type":"'
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
    #: The last vector of the row before, when that row had no cumulative vector.
    prev_last: Vec | None = None
    recent: list[Vec | tuple[Vec, Vec | None]] = field(default_factory=list)
    #: A child file is in its copied-history prefix until its first own turn or response.
    in_replay: bool = True
    skipped: Counter = field(default_factory=Counter)
    #: The raw ``info`` of the last token_count row: an identical next one is a re-emit.
    _last_info: msgspec.Raw | None = field(default=None, repr=False)
    _recent_set: set = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self._recent_set = set(self.recent)

    # -- lines ------------------------------------------------------------------------------

    def feed(self, line: bytes) -> Response | None:
        """Read one line (without its newline); return the response it records, if any."""
        if not HEAD.search(line, 0, HEAD_WINDOW):
            return None  # prompts, tool output, legacy lines: never parsed
        return self.feed_candidate(line)

    def feed_candidate(self, line: bytes) -> Response | None:
        """``feed`` for a line whose head already named a usage-bearing type."""
        if line.find(_TOKEN_COUNT, 0, HEAD_WINDOW) >= 0 and line.isascii():
            # Most candidates: decoded into the few typed fields they need, the rest skipped
            # unread. (Only ASCII lines: one with other bytes is checked whole for UTF-8.)
            try:
                head = _read_token_count(line)
            except msgspec.MsgspecError:
                head = None
            if head is not None and head.type == "event_msg" and head.payload.type == "token_count":
                info = head.payload.info
                if info == self._last_info:  # (never null: see below)
                    # R4 without decoding: the same serialized info as the row before.
                    self.skipped["re-emitted"] += 1
                    return None
                if info == _NULL:
                    return None  # rate limits only (R3)
                if self.model is not None:  # else the info itself may name the model
                    try:
                        figures = _read_figures(info)
                    except msgspec.MsgspecError:  # text, floats, {}: the general path decides
                        figures = _UNREAD
                    if figures is not _UNREAD:
                        self._last_info = info
                        total, last = figures.total_token_usage, figures.last_token_usage
                        return self._count(
                            _astuple(total) if total is not None else None,
                            _astuple(last) if last is not None else None,
                            _stamp_ms(head.timestamp),
                            self._inherited_by_ordinal(head.ordinal),
                        )
                return self._feed_object(line, info)
        elif self.meta.thread_id is not None and _SESSION_META.match(line):
            return None  # a parent's meta copied into a fork: nothing to read in it
        return self._feed_object(line, None)

    def _feed_object(self, line: bytes, info: msgspec.Raw | None) -> Response | None:
        """The general path: the whole line decoded, any key order or spacing."""
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
        response = self._token_count(payload.get("info"), ts_ms, inherited_by_ordinal, payload)
        if payload.get("info") is not None:
            self._last_info = info
        return response

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

    def _token_count(
        self, info, ts_ms: int | None, inherited: bool | None, payload: dict
    ) -> Response | None:
        if type(info) is not dict:
            return None  # rate limits only (R3)
        total = _vec(info.get("total_token_usage"))
        last = _vec(info.get("last_token_usage"))
        return self._count(total, last, ts_ms, inherited, info, payload)

    def _count(
        self,
        total: Vec | None,
        last: Vec | None,
        ts_ms: int | None,
        inherited: bool | None,
        info: dict | None = None,
        payload: dict | None = None,
    ) -> Response | None:
        """Rules R4 to R7 and R10 for one token_count row's cumulative and last vectors."""
        if total is None and last is None:
            self.skipped["no token figures"] += 1
            return None
        if total is None:
            if last == self.prev_last:
                self.skipped["re-emitted"] += 1  # R4 for a row with no cumulative vector
                return None
            self.prev_last = last
        elif self.prev_last is not None:
            self.prev_last = None
        prev = self.prev_total
        if total is not None:
            # A counter reset writes a cumulative vector of total_tokens only, the same at every
            # reset of a thread: for those, only a repeated last too makes a late re-emit.
            reset = total[4] > 0 and not (total[0] or total[1] or total[2] or total[3])
            key = (total, last) if reset else total
            if total == prev:
                self.skipped["re-emitted"] += 1  # R4
                self._remember(key)  # (after a reset, its last may be new: a late copy is stale)
                return None
            if key in self._recent_set:
                self.skipped["re-emitted late"] += 1
                return None
            self.prev_total = total
            self._remember(key)
        if ts_ms is None:
            self.skipped["no timestamp"] += 1
            return None
        if self.in_replay and self.meta.child:
            if inherited or (inherited is None and self._in_replay_window(ts_ms)):
                self.skipped["copied from parent"] += 1  # R10
                return None
            self.in_replay = False
        inp, cached, out, reasoning, _ = _delta(total, last, prev)
        # R7: no negatives; cached within input, reasoning within output.
        inp = inp if inp > 0 else 0
        out = out if out > 0 else 0
        cached = 0 if cached < 0 else cached if cached < inp else inp
        reasoning = 0 if reasoning < 0 else reasoning if reasoning < out else out
        if not (inp or cached or out or reasoning):
            self.skipped["estimate only"] += 1  # R6
            return None
        model = self.model or _fallback_model(info or {}, payload or {}) or UNKNOWN_MODEL
        if total is not None and last is not None:
            identity = _IDENTITY % (ts_ms, *total, *last)
        else:
            identity = _identity(ts_ms, total, last)
        if total is None:
            # Without a cumulative figure, time and per-call counts do not tell two genuine calls
            # apart (R11): such a row is only ever the same as a row of its own thread.
            identity += b"|" + (self.meta.thread_id or "").encode()
        return Response(ts_ms, model, inp, cached, out, reasoning, identity, total)

    def _remember(self, key) -> None:
        """Keep a cumulative vector (or reset pair) among the recent ones, for late re-emits."""
        if key in self._recent_set:
            return
        self.recent.append(key)
        self._recent_set.add(key)
        if len(self.recent) > RECENT_TOTALS:
            self._recent_set.discard(self.recent.pop(0))

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
        return ts_ms // 1000 <= started // 1000

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
            "prev_last": self.prev_last,
            "recent": self.recent,
            "in_replay": self.in_replay,
        }

    @classmethod
    def from_state(cls, state: dict) -> RolloutParser:
        prev, prev_last = state.get("prev_total"), state.get("prev_last")
        return cls(
            meta=FileMeta(*state["meta"]),
            model=state.get("model"),
            prev_total=tuple(prev) if prev else None,
            prev_last=tuple(prev_last) if prev_last else None,
            recent=[_recent_key(k) for k in state.get("recent", [])],
            in_replay=state.get("in_replay", True),
        )


#: The types of a saved ``FileMeta``, field by field (``to_state``'s "meta").
_META_TYPES = (str | None, str | None, str | None, int | None, bool, int | None, bool)


def valid_meta(saved: object) -> bool:
    """Whether ``saved`` is a ``FileMeta`` as ``to_state`` writes it (or as JSON gives it back)."""
    return (
        isinstance(saved, list | tuple)
        and len(saved) == len(_META_TYPES)
        and all(isinstance(v, t) for v, t in zip(saved, _META_TYPES, strict=True))
    )


def _valid_vec(saved: object) -> bool:
    return (
        isinstance(saved, list | tuple) and len(saved) == 5 and all(type(n) is int for n in saved)
    )


def _valid_recent_key(saved: object) -> bool:
    """A remembered vector, or a reset pair ``[total, last or null]`` (see ``_recent_key``)."""
    if _valid_vec(saved):
        return True
    return (
        isinstance(saved, list | tuple)
        and len(saved) == 2
        and _valid_vec(saved[0])
        and (saved[1] is None or _valid_vec(saved[1]))
    )


def valid_state(state: object) -> bool:
    """Whether ``state`` is a parser state as ``to_state`` writes it (or as JSON gives it back), so
    ``from_state`` and the parser can use it; a damaged state is one a run would break on."""
    if not (isinstance(state, dict) and valid_meta(state.get("meta"))):
        return False
    recent = state.get("recent", [])
    return (
        isinstance(state.get("model"), str | None)
        and all(
            v is None or _valid_vec(v) for v in (state.get("prev_total"), state.get("prev_last"))
        )
        and isinstance(recent, list)
        and all(map(_valid_recent_key, recent))
        and isinstance(state.get("in_replay", True), bool)
    )


# -- small pure helpers -----------------------------------------------------------------------


def _recent_key(saved: list):
    """A remembered vector (or reset pair) back from its JSON form."""
    if saved and isinstance(saved[0], list):
        total, last = saved
        return tuple(total), tuple(last) if last else None
    return tuple(saved)


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
    if type(usage) is not dict or not usage:
        return None
    try:
        a, b, c, d, e = (
            usage["input_tokens"],
            usage["cached_input_tokens"],
            usage["output_tokens"],
            usage["reasoning_output_tokens"],
            usage["total_tokens"],
        )
    except KeyError:  # a figure left out counts as 0
        g = usage.get
        a, b, c, d, e = (
            g("input_tokens", 0),
            g("cached_input_tokens", 0),
            g("output_tokens", 0),
            g("reasoning_output_tokens", 0),
            g("total_tokens", 0),
        )
    if type(a) is int and type(b) is int and type(c) is int and type(d) is int and type(e) is int:
        return a, b, c, d, e  # the usual case: plain integers
    return _int(a), _int(b), _int(c), _int(d), _int(e)


_TOKEN_COUNT = b'"type":"token_count"'
_SESSION_META = re.compile(COMPACT_HEAD + rb'session_meta"')
_UNREAD = object()


class _Usage(msgspec.Struct):
    """A token vector as Codex writes it: all five figures, integers (else the general path)."""

    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_output_tokens: int
    total_tokens: int


class _Figures(msgspec.Struct):
    total_token_usage: _Usage | None = None
    last_token_usage: _Usage | None = None


class _TokenCountPayload(msgspec.Struct):
    type: str
    info: msgspec.Raw = msgspec.Raw(b"null")


class _TokenCountLine(msgspec.Struct):
    payload: _TokenCountPayload
    type: str = ""
    timestamp: str | int | float | None = None
    ordinal: int | None = None


_read_token_count = msgspec.json.Decoder(_TokenCountLine).decode
_read_figures = msgspec.json.Decoder(_Figures).decode
_NULL = msgspec.Raw(b"null")
_astuple = msgspec.structs.astuple


def _int(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e18:
        return int(value)
    return 0


def _identity(ts_ms: int, total: Vec | None, last: Vec | None) -> bytes:
    return b"%d|%s|%s" % (ts_ms, _vec_bytes(total), _vec_bytes(last))


_IDENTITY = b"%d|%d,%d,%d,%d,%d|%d,%d,%d,%d,%d"


def _vec_bytes(v: Vec | None) -> bytes:
    return b"-" if v is None else b"%d,%d,%d,%d,%d" % v


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None


#: Timestamps outside these bounds (UTC ms, 2000 to 2100) are corrupt, not usage.
EARLIEST_MS, LATEST_MS = 946_684_800_000, 4_102_444_800_000


def timestamp_ms(value) -> int | None:
    """UTC milliseconds from an ISO 8601 string, or from a number of seconds or milliseconds;
    None when absent, unreadable or implausible."""
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
            ms = round(ts.timestamp() * 1000)
        except (ValueError, OverflowError):
            return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not EARLIEST_MS / 1000 <= abs(value) < LATEST_MS * 10:  # also rejects NaN and inf
            return None
        ms = int(value if value > 1e11 else value * 1000)
    else:
        return None
    return ms if EARLIEST_MS <= ms < LATEST_MS else None


def _stamp_ms(stamp) -> int | None:
    """``timestamp_ms``, with a shortcut for the UTC form Codex writes."""
    if type(stamp) is str and stamp.endswith("Z"):
        try:
            ms = round(_fromisoformat(stamp).timestamp() * 1000)
        except (ValueError, OverflowError):
            return None
        return ms if EARLIEST_MS <= ms < LATEST_MS else None
    return timestamp_ms(stamp)


_fromisoformat = datetime.fromisoformat


def iso_utc(ts: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, the form Codex itself writes."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True

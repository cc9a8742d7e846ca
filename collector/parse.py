"""Counting rules for one Codex rollout file: lines in, counted model responses out.

Pure: no files, no clock, no network. ``RolloutParser.feed`` takes one line (bytes) at a time and
returns a ``Response`` for each genuine model response, ``None`` for everything else; ``finish``
hands out a response record still waiting for its token_count when a read ends. The rules (R1-R20
in docs/counting.md) are applied here and nowhere else, except those that need other files
(R1, R11, R12's seed, fork rule 2), which collector/scan.py applies.

Only whitelisted fields are ever read: timestamps, line types, session ids and lineage, the model
name, the service tier, ordinals and the token vectors. Prompt text, paths, git data and the rest
are never looked at, but for one local hint: the name of the folder a session ran in (the last
part of its ``cwd``), which ``report session`` shows on this machine. It is kept apart from the
responses and from the saved state, so it never reaches a record, a store or an upload.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

import orjson

from collector.keys import blake2b

#: input, cached, output, reasoning, total_tokens, cache_write (the last one absent before 0.145)
Vec = tuple[int, int, int, int, int, int]
#: A token_count line in Codex's exact layout as the reader's C loop reads it (``fresh_rows`` in
#: collector/_heads.c): UTC ms, ordinal, cumulative and last vectors, serialized info and the
#: identity of its response (``_IDENTITY``).
FiguresRow = tuple[int, int | None, Vec, Vec, bytes, bytes]
IN, CACHED, OUT, REASONING, TOTAL, CACHE_WRITE = range(6)
#: The components that are usage (every one but total_tokens, which is recomputed).
_PARTS = (IN, CACHED, OUT, REASONING, CACHE_WRITE)

#: The longest response id kept as it is (OpenAI's are about 50 characters).
ID_MAX = 200
#: How many recent cumulative vectors a file remembers to drop late (out-of-order) re-emits.
RECENT_TOTALS = 32
#: The layout of ``to_state``: a saved state of another version is not read on from (its file is
#: read again from the start; event ids keep the store exact).
STATE_VERSION = 2

#: Model names are free text in the logs (local models can be named by a path): anything that does
#: not look like a model name is replaced, so a name can never carry a path or a sentence.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+@()\-/]{0,79}$")
CUSTOM_MODEL = "custom"
UNKNOWN_MODEL = "unknown"

#: R15: service tiers as logged, by the class they bill in; any other value is "unknown".
TIERS = {
    "priority": "priority",
    "fast": "priority",
    "default": "standard",
    "standard": "standard",
    "flex": "flex",
    "ultrafast": "ultrafast",
}
UNKNOWN_TIER = "unknown"

#: The usage-bearing line types, recognised from the head of a line without parsing it. Codex writes
#: ``{"timestamp":..,["ordinal":..,]"type":..,"payload":{"type":..``: types sit near the start.
HEAD_WINDOW = 320
#: How every line begins as Codex writes it (compact JSON), up to the opening quote of its type.
COMPACT_HEAD = rb'\{"timestamp":"[^"\n]{0,40}",(?:"ordinal":\d+,)?"type":"'
#: The line types read (after ``COMPACT_HEAD``): lineage, model, tier, usage and prefix bounds.
LINE_KINDS = (
    b"session_meta",
    b"turn_context",
    b"token_usage_record",
    b"inter_agent_communication",
    b"inter_agent_communication_metadata",
)
#: The ``event_msg`` payload types read.
EVENT_KINDS = (b"token_count", b"task_started", b"thread_settings_applied")
HEAD = re.compile(
    rb'"type"\s*:\s*"(?:' + b"|".join(LINE_KINDS) + rb')"'
    rb'|"payload"\s*:\s*\{\s*"type"\s*:\s*"(?:' + b"|".join(EVENT_KINDS) + rb')"'
)


class Record:
    """A record whose fields are its ``__slots__``, compared and shown by them, as a dataclass
    would be (making a dataclass runs generated code: about 5M instructions a class, at every
    start of a command that reads logs)."""

    __slots__ = ()

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # (mutable, as a dataclass with eq)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Response(Record):
    """One counted model response (a delta, never a cumulative figure)."""

    __slots__ = (
        "ts_ms",
        "model",
        "input",
        "cached",
        "output",
        "reasoning",
        "identity",
        "total",
        "cache_write",
        "tier",
    )

    def __init__(
        self,
        ts_ms: int,
        model: str,
        input: int,
        cached: int,
        output: int,
        reasoning: int,
        identity: bytes,
        total: Vec | None,
        cache_write: int = 0,
        tier: str = UNKNOWN_TIER,
    ) -> None:
        self.ts_ms = ts_ms
        self.model = model
        self.input = input
        self.cached = cached
        self.output = output
        self.reasoning = reasoning
        #: What the event id hashes: timestamp plus cumulative and last vectors (a response
        #: record: its thread and response id). Equal for the same row read from a copy, an
        #: archive or a fork that kept the original timestamps.
        self.identity = identity
        #: Cumulative vector after this response, used to recognise rows a child copied from its
        #: parent.
        self.total = total
        #: Input tokens written to the prompt cache (R16): part of input, apart from cached.
        self.cache_write = cache_write
        #: The service tier in force (R15).
        self.tier = tier


class FileMeta(Record):
    """Identity and lineage of a rollout, from its own (first) session_meta line."""

    #: In this order in a saved parser state (``to_state``).
    __slots__ = (
        "thread_id",
        "root_id",
        "parent_id",
        "started_ms",
        "child",
        "history_start",
        "subagent",
        "base_id",
        "base_offset",
        "spawned",
        "paginated",
    )

    def __init__(
        self,
        thread_id: str | None = None,
        root_id: str | None = None,
        parent_id: str | None = None,
        started_ms: int | None = None,
        child: bool = False,
        history_start: int | None = None,
        subagent: bool = False,
        base_id: str | None = None,
        base_offset: int | None = None,
        spawned: bool = False,
        paginated: bool = False,
    ) -> None:
        self.thread_id = thread_id
        #: Root thread of a tree of subagents (newer logs write it as ``session_id``).
        self.root_id = root_id
        #: The thread this one was forked or spawned from.
        self.parent_id = parent_id
        #: When the child began: the later of its meta's own time and the meta line's (a replay
        #: of the parent's history is stamped with the line's).
        self.started_ms = started_ms
        #: A fork or a subagent whose file may begin with a copy of the parent's history.
        self.child = child
        #: The child's own lines begin at the first line with an ``ordinal`` at least this (R18).
        self.history_start = history_start
        #: Spawned by another thread (a helper agent, a review): its usage belongs to the root
        #: session. A fork is a child too, but a conversation of its own.
        self.subagent = subagent
        #: R12: the rollout id whose first ``base_offset`` bytes this file references (copies
        #: nothing).
        self.base_id = base_id
        self.base_offset = base_offset
        #: A V2 spawned subagent without ``history_start``: its prefix is told by its second
        #: session_meta and the trigger that ends it, or it copied nothing when paginated (R18).
        self.spawned = spawned
        self.paginated = paginated


def parse_meta(payload: dict, ts_ms: int | None) -> FileMeta:
    """The lineage of a file from its session_meta payload and the line's own timestamp."""
    source = payload.get("source")
    spawn = other = None
    subagent = isinstance(source, dict) and "subagent" in source
    if subagent and isinstance(source["subagent"], dict):
        spawn = source["subagent"].get("thread_spawn")
        other = source["subagent"].get("other")
    parent = _str(payload.get("forked_from_id")) or _str(payload.get("parent_thread_id"))
    if isinstance(spawn, dict):
        parent = parent or _str(spawn.get("parent_thread_id"))
    history_start = payload.get("subagent_history_start_ordinal")
    if history_start is None:
        history_start = payload.get("forked_from_ordinal_exclusive")
    history_start = history_start if type(history_start) is int else None
    thread_source = payload.get("thread_source")
    subagent = subagent or thread_source in ("subagent", "guardian_review")
    base_id, base_offset = _history_base(payload.get("history_base"))
    # Guardian reviews and paginated references copy nothing (R18, R12).
    copies_nothing = (
        base_id is not None or thread_source == "guardian_review" or other == "guardian"
    )
    child = not copies_nothing and bool(parent or subagent or history_start is not None)
    started = _later(timestamp_ms(payload.get("timestamp")), ts_ms)
    thread_id = _str(payload.get("id"))
    root_id = _str(payload.get("session_id"))
    return FileMeta(
        thread_id=thread_id,
        root_id=root_id if root_id and root_id != thread_id else None,
        parent_id=parent,
        started_ms=started,
        child=child,
        history_start=history_start if child else None,
        subagent=subagent,
        base_id=base_id,
        base_offset=base_offset,
        spawned=child
        and history_start is None
        and (isinstance(spawn, dict) or thread_source == "subagent"),
        paginated=payload.get("history_mode") == "paginated",
    )


#: The longest folder name kept for display (a name is a few dozen characters at most).
FOLDER_MAX = 100


def folder_name(cwd: object) -> str | None:
    """The last part of a session's working folder (``/home/sam/src/ledger`` or
    ``C:\\Users\\sam\\ledger``: ``ledger``): a hint a person recognises a session by, for local
    display only. None when the log names no folder."""
    if not isinstance(cwd, str):
        return None
    path = cwd.rstrip("\\/")
    name = path[max(path.rfind("/"), path.rfind("\\")) + 1 :][:FOLDER_MAX]
    return name or None


def _history_base(base) -> tuple[str | None, int | None]:
    """R12: (rollout id, end byte offset) of a ``history_base``, or (None, None)."""
    if not isinstance(base, dict):
        return None, None
    rollout, offset = _str(base.get("thread_id")), base.get("end_byte_offset")
    if rollout is None or type(offset) is not int or offset < 0:
        return None, None
    return rollout, offset


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


#: How a child's copied prefix ends (``RolloutParser.prefix``).
OWN = "own"  # no prefix, or it has ended
BY_ORDINAL = "ordinal"  # at the first line whose ordinal reaches history_start (R18 rule 1)
UNDECIDED = "undecided"  # a spawned subagent before its second line (R18 rules 2 and 3)
#: At a trigger_turn: true after the copied meta (R18 rule 2), or, should no trigger come, as
#: ``BY_TIME`` (own lines are stamped after the replay instant).
BY_TRIGGER = "trigger"
BY_TIME = "time"  # at the first own turn or response after the replay window (R10 rule 3)


class PendingRecord(Record):
    """A ``token_usage_record`` not yet known to be accounted for by a token_count (R13)."""

    __slots__ = ("response", "usage", "thread_usage")

    def __init__(self, response: Response, usage: Vec, thread_usage: Vec | None) -> None:
        self.response = response
        self.usage = usage
        self.thread_usage = thread_usage


class RolloutParser:
    """Streaming state machine over the lines of one rollout file.

    The state survives between runs (``to_state``/``from_state``) so a grown file is read on from
    where the last run stopped, with the same result as a full read.
    """

    def __init__(
        self,
        meta: FileMeta | None = None,
        model: str | None = None,
        tier: str = UNKNOWN_TIER,
        prev_total: Vec | None = None,
        prev_last: Vec | None = None,
        recent: list[Vec | tuple[Vec, Vec | None]] | None = None,
        in_replay: bool = True,
        prefix: str = OWN,
        pending: PendingRecord | None = None,
        flushed: tuple[Vec, Vec | None] | None = None,
    ) -> None:
        self.meta = FileMeta() if meta is None else meta
        self.model = model
        self.tier = tier
        self.prev_total = prev_total
        #: The last vector of the row before, when that row had no cumulative vector.
        self.prev_last = prev_last
        self.recent = [] if recent is None else recent
        #: A child file is in its copied-history prefix until ``prefix`` says it ended.
        self.in_replay = in_replay
        self.prefix = prefix
        #: R13: the own response record waiting for the token_count that may account for it.
        self.pending = pending
        #: (usage, thread usage) of a record counted at the end of a read before its token_count
        #: came: that token_count, in a later read, is then not counted again.
        self.flushed = flushed
        #: Records found unaccounted for by the token_count line that returned its own response:
        #: handed out by ``finish`` (a line returns one response at most).
        self.ready: list[Response] = []
        self.skipped: Counter = Counter()
        #: The name of the folder the session ran in (``folder_name``): shown locally, never part
        #: of a response nor of ``to_state``.
        self.folder: str | None = None
        #: The raw ``info`` of the last token_count row: an identical next one is a re-emit.
        self._last_info: bytes | None = None
        self._recent_set = set(self.recent)

    # -- lines ------------------------------------------------------------------------------

    def feed(self, line: bytes) -> Response | None:
        """Read one line (without its newline); return the response it records, if any."""
        if not HEAD.search(line, 0, HEAD_WINDOW):
            return None  # prompts, tool output, legacy lines: never parsed
        return self.feed_candidate(line)

    def seed(self, total: Vec | None) -> None:
        """R12: start from the cumulative vector in force where this file's history base was cut,
        so a re-emit of it is recognised (before the first line is fed)."""
        if total is not None:
            self.prev_total = total
            self._remember(total)

    def finish(self) -> list[Response]:
        """At the end of a read: the records counted since the last call, and a record still
        waiting for its token_count (remote compactions end a read that way): its token_count,
        if a later read brings it, is then not counted."""
        ready, self.ready = self.ready, []
        pending, self.pending = self.pending, None
        if pending is not None:
            self.flushed = (pending.usage, pending.thread_usage)
            ready.append(pending.response)
        return ready

    def feed_candidate(self, line: bytes | FiguresRow) -> Response | None:
        """``feed`` for a line whose head already named a usage-bearing type, or for the figures
        of a token_count line the reader read in C (``FiguresRow``)."""
        if type(line) is tuple:
            return self._feed_figures(*line)
        if self.meta.thread_id is not None and _SESSION_META.match(line):
            self._later_meta()
            return None  # a parent's meta copied into a child: nothing else to read in it
        return self._feed_object(line)

    def _feed_figures(
        self,
        ts_ms: int,
        ordinal: int | None,
        total: Vec,
        last: Vec,
        info: bytes,
        identity: bytes,
    ) -> Response | None:
        """A token_count line in Codex's exact layout, as the general path reads it (same checks,
        same order), from the figures the reader took out of it. (That layout names no model:
        before any turn context, the row's model is unknown on either path.)"""
        if info == self._last_info:
            self.skipped["re-emitted"] += 1  # R4 (the reader leaves out most of these)
            return None
        self._last_info = info
        # (Past a child's copied prefix, as most files are from the start, nothing is inherited.)
        inherited = False if self.prefix == OWN else self._inherited(ordinal)
        return self._count(total, last, ts_ms, inherited, identity=identity)

    def _feed_object(self, line: bytes) -> Response | None:
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
        figures = kind == "token_usage_record" or (
            kind == "event_msg" and payload.get("type") == "token_count"
        )
        if figures and _has_float(payload, kind):
            # orjson reads an integer past 64 bits as a float; the standard library reads it
            # exactly, so such a count is refused as out of bounds, never taken as 0.
            obj = json.loads(line)
            payload = obj["payload"]
        if figures and kind == "event_msg":
            info = payload.get("info")
            if info is None:
                return None  # rate limits only (R3): a line that changes nothing
            # R4 as the reader's C loop tells it: the info serialized as the row before's.
            text = _serialized(info)
            if text is not None and text == self._last_info:
                self.skipped["re-emitted"] += 1
                return None
            self._last_info = text
        ts_ms = timestamp_ms(obj.get("timestamp"))
        if kind == "session_meta":
            if self.meta.thread_id is None:
                self.meta = parse_meta(payload, ts_ms)
                self.folder = folder_name(payload.get("cwd"))
                self.in_replay = self.meta.child
                self.prefix = _first_prefix(self.meta)
            else:
                self._later_meta()
            return None  # later metas are the parent's, embedded in a child
        inherited = self._inherited(obj.get("ordinal"))
        if kind == "turn_context":
            self._turn_context(payload, ts_ms, inherited)
            return None
        if kind == "token_usage_record":
            return self._usage_record(
                payload.get("thread_id"),
                payload.get("response_id"),
                _vec(payload.get("usage")),
                _vec(payload.get("thread_token_usage")),
                ts_ms,
                inherited,
            )
        if kind in _TRIGGER_KINDS:
            if self.prefix == BY_TRIGGER and payload.get("trigger_turn") is True:
                self._end_prefix()
            return None
        if kind != "event_msg":
            return None
        event = payload.get("type")
        if event == "task_started":
            self._own_turn_marker(ts_ms, inherited)
            return None
        if event == "thread_settings_applied":
            if not inherited:  # a copied parent's settings are not this file's (R15)
                self._settings(payload.get("thread_settings"))
            return None
        if event != "token_count":
            return None
        return self._token_count(info, ts_ms, inherited, payload)

    def _turn_context(self, payload: dict, ts_ms: int | None, inherited: bool | None) -> None:
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            mode = payload.get("collaboration_mode")
            settings = mode.get("settings") if isinstance(mode, dict) else None
            model = settings.get("model") if isinstance(settings, dict) else None
        if isinstance(model, str) and model:
            self.model = clean_model(model)
        self._own_turn_marker(ts_ms, inherited)

    def _settings(self, settings) -> None:
        """R15: a settings event names the tier from here on; without the key, the tier stays."""
        if not isinstance(settings, dict):
            return
        tier = settings.get("service_tier")
        if tier is not None:
            self.tier = TIERS.get(tier, UNKNOWN_TIER) if isinstance(tier, str) else UNKNOWN_TIER

    def _own_turn_marker(self, ts_ms: int | None, inherited: bool | None) -> None:
        """A turn that starts after the copied prefix ends a child's replay (R10 rule 3)."""
        if not self.in_replay or inherited or self.prefix not in (BY_TIME, BY_TRIGGER):
            return
        if inherited is False or (ts_ms is not None and not self._in_replay_window(ts_ms)):
            self._end_prefix()

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
        identity: bytes | None = None,
    ) -> Response | None:
        """Rules R4 to R7, R10 and R13 (c) for one token_count row's cumulative and last vectors
        (``identity``: the row's, when the reader made it already)."""
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
            reset = total[4] > 0 and not (total[0] or total[1] or total[2] or total[3] or total[5])
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
        if (self.pending or self.flushed) and self._accounts_for_record(total, last):
            self.skipped["counted through its response record"] += 1
            return None
        if ts_ms is None:
            self.skipped["no timestamp"] += 1
            return None
        if self.in_replay and self.meta.child and self.prefix != OWN:
            if inherited or (inherited is None and self._in_replay_window(ts_ms)):
                self.skipped["copied from parent"] += 1  # R10, R18
                return None
            self._end_prefix()
        figures = _clamped(last if last is not None else _delta(total, last, prev))  # R5
        if figures is None:
            self.skipped["estimate only"] += 1  # R6
            return None
        model = self.model or _fallback_model(info or {}, payload or {}) or UNKNOWN_MODEL
        if identity is None:
            identity = _row_identity(ts_ms, total, last, self.meta.thread_id)
        inp, cached, cache_write, out, reasoning = figures
        return Response(
            ts_ms, model, inp, cached, out, reasoning, identity, total, cache_write, self.tier
        )

    def _accounts_for_record(self, total: Vec | None, last: Vec | None) -> bool:
        """R13 (c), at the first advancing token_count after a record: whether it accounts for
        the record (same usage, or the record's thread total). A waiting record it accounts for
        is not counted; one it does not is. True when the record was already counted (at the
        end of a read), so this token_count is not."""
        pending, flushed = self.pending, self.flushed
        self.pending = self.flushed = None
        if pending is not None and not _accounts(total, last, pending.usage, pending.thread_usage):
            self.ready.append(pending.response)
        return flushed is not None and _accounts(total, last, *flushed)

    def _usage_record(
        self,
        thread,
        response_id,
        usage: Vec | None,
        thread_usage: Vec | None,
        ts_ms: int | None,
        inherited: bool | None,
    ) -> Response | None:
        """R13: an own record outside the inherited prefix waits for the token_count that may
        account for it; a record still waiting when the next one comes is counted."""
        if thread is not None and thread != self.meta.thread_id:
            self.skipped["response record of another thread"] += 1  # (a): a copy
            return None
        if inherited is None:  # only the replay window can tell (R10 rule 3)
            inherited = self.in_replay and self.meta.child and self.prefix != OWN
            inherited = inherited and (ts_ms is None or self._in_replay_window(ts_ms))
        if inherited:
            self.skipped["response record copied from parent"] += 1  # (b)
            return None
        figures = _clamped(usage) if usage is not None else None
        if figures is None or ts_ms is None:
            self.skipped["response record without usage"] += 1
            return None
        inp, cached, cache_write, out, reasoning = figures
        response = Response(
            ts_ms,
            self.model or UNKNOWN_MODEL,
            inp,
            cached,
            out,
            reasoning,
            _record_identity(self.meta.thread_id, response_id, ts_ms, usage),
            None,
            cache_write,
            self.tier,
        )
        before, self.pending = self.pending, None
        self.pending = PendingRecord(response, usage, thread_usage)
        self.flushed = None
        return before.response if before is not None else None

    def _remember(self, key) -> None:
        """Keep a cumulative vector (or reset pair) among the recent ones, for late re-emits."""
        if key in self._recent_set:
            return
        self.recent.append(key)
        self._recent_set.add(key)
        if len(self.recent) > RECENT_TOTALS:
            self._recent_set.discard(self.recent.pop(0))

    # -- forks and subagents ----------------------------------------------------------------

    def _inherited(self, ordinal) -> bool | None:
        """Whether a line was copied from the parent: True/False when the prefix's bound decides,
        None when only the replay window can tell (R10 rule 3)."""
        if self.prefix == UNDECIDED:  # the line after a spawned subagent's meta
            self._decide_prefix()
        if not self.in_replay or self.prefix == OWN:
            return False
        if self.prefix == BY_ORDINAL:
            # R18 rule 1, by position (R19): the prefix ends at the first line reaching the start.
            if type(ordinal) is int and ordinal >= self.meta.history_start:
                self._end_prefix()
                return False
            return True
        return None

    def _later_meta(self) -> None:
        """A second session_meta: the copied parent's. A spawned subagent's prefix then ends at
        its trigger (R18 rule 2)."""
        if self.prefix == UNDECIDED:
            self.prefix = BY_TRIGGER

    def _decide_prefix(self) -> None:
        """A spawned subagent whose second line is no session_meta: a paginated one copied
        nothing, an older one is told by time (R18 rule 3)."""
        if self.meta.paginated:
            self._end_prefix()
        else:
            self.prefix = BY_TIME

    def _end_prefix(self) -> None:
        self.in_replay = False
        self.prefix = OWN

    def _in_replay_window(self, ts_ms: int) -> bool:
        """Copied rows carry the parent's (earlier) timestamps or the spawn second (rule 3)."""
        started = self.meta.started_ms
        if started is None:
            return True
        return ts_ms // 1000 <= started // 1000

    # -- state for incremental reads --------------------------------------------------------

    def to_state(self) -> dict:
        m = self.meta
        pending = self.pending
        return {
            "v": STATE_VERSION,
            "meta": [getattr(m, name) for name in _META_FIELDS],
            "model": self.model,
            "tier": self.tier,
            "prev_total": self.prev_total,
            "prev_last": self.prev_last,
            "recent": self.recent,
            "in_replay": self.in_replay,
            "prefix": self.prefix,
            "pending": None if pending is None else _pending_state(pending),
            "flushed": self.flushed,
        }

    @classmethod
    def from_state(cls, state: dict) -> RolloutParser:
        prev, prev_last = state.get("prev_total"), state.get("prev_last")
        flushed = state.get("flushed")
        return cls(
            meta=FileMeta(*state["meta"]),
            model=state.get("model"),
            tier=state.get("tier", UNKNOWN_TIER),
            prev_total=tuple(prev) if prev else None,
            prev_last=tuple(prev_last) if prev_last else None,
            recent=[_recent_key(k) for k in state.get("recent", [])],
            in_replay=state.get("in_replay", True),
            prefix=state.get("prefix", OWN),
            pending=_pending_from_state(state.get("pending")),
            flushed=(tuple(flushed[0]), _tuple(flushed[1])) if flushed else None,
        )


def _first_prefix(meta: FileMeta) -> str:
    """How the copied prefix of a file just begun will end (R18, R10)."""
    if not meta.child:
        return OWN
    if meta.history_start is not None:
        return BY_ORDINAL
    return UNDECIDED if meta.spawned else BY_TIME


def _accounts(total: Vec | None, last: Vec | None, usage: Vec, thread_usage: Vec | None) -> bool:
    """R13 (c): a token_count accounts for a record with its usage or its thread total."""
    return (last is not None and last == usage) or (total is not None and total == thread_usage)


def _pending_state(p: PendingRecord) -> list:
    r = p.response
    return [
        [r.ts_ms, r.model, r.input, r.cached, r.output, r.reasoning, r.identity.decode()],
        [r.cache_write, r.tier],
        p.usage,
        p.thread_usage,
    ]


def _pending_from_state(saved) -> PendingRecord | None:
    if not saved:
        return None
    (ts_ms, model, inp, cached, out, reasoning, identity), (cache_write, tier), usage, thread = (
        saved
    )
    response = Response(
        ts_ms, model, inp, cached, out, reasoning, identity.encode(), None, cache_write, tier
    )
    return PendingRecord(response, tuple(usage), _tuple(thread))


def _tuple(saved) -> tuple | None:
    return tuple(saved) if saved else None


def _record_identity(thread: str | None, response_id, ts_ms: int, usage: Vec) -> bytes:
    """A counted record is named by its thread and response id (R13's dedupe across files);
    without a response id, by its time and usage within its thread. An id longer than any the
    API gives is kept as its digest (the identity is saved with a waiting record)."""
    prefix = b"record|%s|" % (thread or "").encode()
    if isinstance(response_id, str) and response_id:
        rid = response_id.encode()
        return prefix + (rid if len(rid) <= ID_MAX else blake2b(rid).hexdigest().encode())
    return prefix + _identity(ts_ms, None, usage)


_META_FIELDS = FileMeta.__slots__


#: The types of a saved ``FileMeta``, field by field (``to_state``'s "meta").
_META_TYPES = (
    str | None,
    str | None,
    str | None,
    int | None,
    bool,
    int | None,
    bool,
    str | None,
    int | None,
    bool,
    bool,
)
_PREFIXES = (OWN, BY_ORDINAL, UNDECIDED, BY_TRIGGER, BY_TIME)


def valid_meta(saved: object, types: tuple = _META_TYPES) -> bool:
    """Whether ``saved`` is a ``FileMeta`` as ``to_state`` writes it (or as JSON gives it back)."""
    return (
        isinstance(saved, list | tuple)
        and len(saved) == len(types)
        and all(isinstance(v, t) for v, t in zip(saved, types, strict=True))
    )


def _valid_vec(saved: object, size: int = 6) -> bool:
    return (
        isinstance(saved, list | tuple)
        and len(saved) == size
        and all(type(n) is int for n in saved)
    )


def older_state(state: object) -> bool:
    """Whether ``state`` is a whole parser state of the first version (five token figures, no
    version number): its file is read again from the start, quietly (the event ids of what was
    counted from it are unchanged); anything else that is not ``valid_state`` is damage."""
    return (
        isinstance(state, dict)
        and "v" not in state
        and valid_meta(state.get("meta"), _META_TYPES[:7])
        and all(
            v is None or _valid_vec(v, 5) for v in (state.get("prev_total"), state.get("prev_last"))
        )
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


def _valid_pending(saved: object) -> bool:
    """A waiting record as ``_pending_state`` writes it."""
    if saved is None:
        return True
    if not (isinstance(saved, list | tuple) and len(saved) == 4):
        return False
    figures, extra, usage, thread = saved
    return (
        isinstance(figures, list | tuple)
        and len(figures) == 7
        and all(type(n) is int for n in (*figures[:1], *figures[2:6]))
        and isinstance(figures[1], str)
        and isinstance(figures[6], str)
        and isinstance(extra, list | tuple)
        and len(extra) == 2
        and type(extra[0]) is int
        and isinstance(extra[1], str)
        and _valid_vec(usage)
        and (thread is None or _valid_vec(thread))
    )


def _valid_flushed(saved: object) -> bool:
    return saved is None or (
        isinstance(saved, list | tuple)
        and len(saved) == 2
        and _valid_vec(saved[0])
        and (saved[1] is None or _valid_vec(saved[1]))
    )


def current_state(state: object) -> bool:
    """Whether ``state`` was written by this version of ``to_state`` (an older one is not read
    on from: its file is read again from the start)."""
    return isinstance(state, dict) and state.get("v") == STATE_VERSION


def valid_state(state: object) -> bool:
    """Whether ``state`` is a parser state as ``to_state`` writes it (or as JSON gives it back), so
    ``from_state`` and the parser can use it; a damaged state is one a run would break on."""
    if not (current_state(state) and valid_meta(state.get("meta"))):
        return False
    recent = state.get("recent", [])
    return (
        isinstance(state.get("model"), str | None)
        and isinstance(state.get("tier", UNKNOWN_TIER), str)
        and all(
            v is None or _valid_vec(v) for v in (state.get("prev_total"), state.get("prev_last"))
        )
        and isinstance(recent, list)
        and all(map(_valid_recent_key, recent))
        and isinstance(state.get("in_replay", True), bool)
        and state.get("prefix", OWN) in _PREFIXES
        and _valid_pending(state.get("pending"))
        and _valid_flushed(state.get("flushed"))
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
    # A counter reset restarts from 0.
    return total if any(diff[i] < 0 for i in _PARTS) else diff  # type: ignore[return-value]


def _clamped(v: Vec) -> tuple[int, int, int, int, int] | None:
    """R7 and R6: (input, cached, cache_write, output, reasoning) with no negatives, cached and
    cache writes within input (apart from each other), reasoning within output; None for an
    estimate (nothing but total_tokens)."""
    inp, cached, out, reasoning, _, cache_write = v
    if cached >= 0 and cache_write >= 0 and cached + cache_write <= inp and 0 <= reasoning <= out:
        # The usual case: nothing to clamp.
        return (inp, cached, cache_write, out, reasoning) if inp or out else None
    inp = v[IN] if v[IN] > 0 else 0
    out = v[OUT] if v[OUT] > 0 else 0
    cached = min(max(v[CACHED], 0), inp)
    cache_write = min(max(v[CACHE_WRITE], 0), inp - cached)
    reasoning = min(max(v[REASONING], 0), out)
    if not (inp or cached or out or reasoning or cache_write):
        return None
    return inp, cached, cache_write, out, reasoning


def _vec(usage) -> Vec | None:
    if type(usage) is not dict or not usage:
        return None
    g = usage.get  # a figure left out counts as 0 (cache writes before 0.145, R16)
    a, b, c, d, e, f = (
        g("input_tokens", 0),
        g("cached_input_tokens", 0),
        g("output_tokens", 0),
        g("reasoning_output_tokens", 0),
        g("total_tokens", 0),
        g("cache_write_input_tokens", 0),
    )
    if (
        type(a) is int
        and type(b) is int
        and type(c) is int
        and type(d) is int
        and type(e) is int
        and type(f) is int
    ):
        return a, b, c, d, e, f  # the usual case: plain integers
    return _int(a), _int(b), _int(c), _int(d), _int(e), _int(f)


_SESSION_META = re.compile(COMPACT_HEAD + rb'session_meta"')
_TRIGGER_KINDS = ("inter_agent_communication_metadata", "inter_agent_communication")


def _has_float(payload: dict, kind: str) -> bool:
    """Whether a usage vector of a token_count or response record payload holds a float (as
    orjson reads a figure past 64 bits)."""
    if kind == "token_usage_record":
        vectors = (payload.get("usage"), payload.get("thread_token_usage"))
    else:
        info = payload.get("info")
        if type(info) is not dict:
            return False
        vectors = (info.get("total_token_usage"), info.get("last_token_usage"))
    return any(type(v) is dict and any(type(n) is float for n in v.values()) for v in vectors)


def _serialized(info) -> bytes | None:
    """The info as Codex serializes it; None when it holds an integer past 64 bits."""
    try:
        return orjson.dumps(info)
    except orjson.JSONEncodeError:
        return None


def _int(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e18:
        return int(value)
    return 0


def _row_identity(ts_ms: int, total: Vec | None, last: Vec | None, thread: str | None) -> bytes:
    """What names a counted token_count row (its event id hashes it)."""
    if total is not None and last is not None:
        return _IDENTITY % (ts_ms, *total[:5], *last[:5])
    identity = _identity(ts_ms, total, last)
    if total is None:
        # Without a cumulative figure, time and per-call counts do not tell two genuine calls
        # apart (R11): such a row is only ever the same as a row of its own thread.
        identity += b"|" + (thread or "").encode()
    return identity


def _identity(ts_ms: int, total: Vec | None, last: Vec | None) -> bytes:
    return b"%d|%s|%s" % (ts_ms, _vec_bytes(total), _vec_bytes(last))


_IDENTITY = b"%d|%d,%d,%d,%d,%d|%d,%d,%d,%d,%d"


def _vec_bytes(v: Vec | None) -> bytes:
    """The first five figures: event ids stay those of logs read before cache writes existed."""
    return b"-" if v is None else b"%d,%d,%d,%d,%d" % v[:5]


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

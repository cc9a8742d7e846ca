"""The writer of one thread's rollout file as cli 0.34 wrote it, and what all writers share.

Each class of :mod:`collector.demo.eras` is one later CLI era; a subclass changes only what that
era changed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from collector.demo.filler import COMMANDS, FILES, PROJECTS, USERS, WORDS, Filler
from collector.demo.lines import (
    RAW,
    WINDOW,
    ZERO,
    Item,
    Vec,
    estimate,
    hexid,
    iso,
    uuid4,
    vec_add,
)
from collector.demo.truth import UNKNOWN_TIER, TrueResponse, Truth


@dataclass
class Ctx:
    """What every writer of one corpus shares: randomness, filler, clock bounds, the truth sink."""

    rng: random.Random
    filler: Filler
    truth: Truth
    end_ms: int
    offset_min: int
    zone: str
    prompts: list[tuple[str, int, str]] = field(default_factory=list)  # history.jsonl lines
    #: How often a rare shape has been written so far, so the first of each is forced.
    seen: Counter[str] = field(default_factory=Counter)

    def first_or(self, shape: str, chance: float) -> bool:
        """Whether to write ``shape`` now: always the first time, then with ``chance``."""
        wanted = self.seen[shape] == 0 or self.rng.random() < chance
        self.seen[shape] += wanted
        return wanted

    def unseen_first(self, kind: str, options: tuple[str, ...]) -> str:
        """One of ``options``, drawn from those not yet written while there are any: every
        model of an era shows up in it, however few its sessions."""
        fresh = [o for o in options if not self.seen[f"{kind}:{o}"]]
        chosen = self.rng.choice(fresh or options)
        self.seen[f"{kind}:{chosen}"] += 1
        return chosen

    def local(self, ms: int) -> time.struct_time:
        return time.gmtime(ms // 1000 + self.offset_min * 60)


@dataclass
class Mark:
    """A point in a thread that a fork or subagent can start from."""

    index: int
    ms: int
    total: Vec | None
    model: str
    context: int


def hash_even(text: str) -> bool:
    """A stable (non-randomized) choice from a string; built-in hash() varies per process."""
    return sum(text.encode()) % 2 == 0


class Cli034:
    """cli 0.34 (Sep-Oct 2025): envelope, no turn_context or model, no rate limits, one token_count
    per response."""

    turn_context = False
    estimates = False
    ordinals = False
    dev_builds = False
    originators = {"cli": "codex_cli_rs", "exec": "codex_exec", "vscode": "codex_vscode"}

    def __init__(
        self,
        ctx: Ctx,
        version: str,
        models: tuple[str, ...],
        created_ms: int,
        *,
        kind: str = "root",
        root_id: str | None = None,
        parent: Cli034 | None = None,
        source: str = "cli",
    ) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.fill = ctx.filler
        self.version = version
        self.models = models or ("unknown",)
        self.created_ms = created_ms
        self.now = created_ms
        self.kind = kind
        self.parent = parent
        self.source = source
        if self.dev_builds and kind == "root" and self.rng.random() < 0.06:
            self.version, self.source = "0.0.0", "unknown"
        self.id = self.new_id(created_ms)
        self.root_id = root_id or self.id
        self.project = parent.project if parent else self.rng.choice(PROJECTS)
        user = parent.user if parent else self.rng.choice(USERS)
        self.user = user
        home = f"/Users/{user}/code" if hash_even(self.project) else f"/home/{user}/src"
        self.cwd = f"{home}/{self.project}"
        self.model = parent.model if parent else ctx.unseen_first("model", self.models)
        self.effort = self.rng.choice(("low", "medium", "medium", "high", "xhigh"))
        self.items: list[Item] = []
        self.total: Vec | None = None
        self.info_seen = False
        self.own = True  # False while copying a parent's history: those rows are not usage
        self.context = self.rng.randint(9_000, 15_000)
        self.turn_id = ""
        self.turn_sum: Vec = ZERO
        self.last_message = ""
        self.marks: list[Mark] = []  # turn ends, for forks
        self.spawns: list[Mark] = []  # spawn_agent calls, for subagents
        self.guardian_calls: list[Mark] = []
        self.pending_reset = False
        self.pending_compaction = False
        self.responses = 0
        self.depth = parent.depth + 1 if parent is not None and kind == "subagent" else 0
        #: The file's own rollout id: the thread id, or another for a revision (R1, R12).
        self.rollout_id = self.id
        #: The model of the last turn_context written: the one a parser attributes usage to.
        self.context_model = "unknown"
        #: The tier in force in this file (R15): None until a settings event names one.
        self.tier: str | None = None
        self.cache_writes = False
        #: A paginated file referencing its base: (base writer, the base's first item left out,
        #: None when the cut is at the base's end).
        self.base_ref: tuple[Cli034, Item | None] | None = None
        self.history_base: dict[str, Any] | None = None
        self.first_ordinal = 0
        self.seed_last: Vec = ZERO
        #: Lines written with the previous line's ordinal (R19) or keys in an unusual order, by
        #: the identity of their payload.
        self.reused_ordinal: set[int] = set()
        self.reordered: set[int] = set()
        #: Byte offset and ordinal of every item, and of the end, filled when the file is rendered.
        self.line_starts: list[int] = []
        self.line_ordinals: list[int | None] = []
        self.sidecar: bytes | None = None
        #: A turn past this time answers at once, so only the live session reaches ``end``.
        self.deadline = ctx.end_ms - 20 * 60_000

    # ---- ids, clock, emission

    def new_id(self, ms: int) -> str:
        return uuid4(self.rng)

    def tick(self, lo: float, hi: float) -> int:
        self.now += int(self.rng.uniform(lo, hi) * 1000)
        return self.now

    def emit(self, type_: str | None, payload: Any) -> None:
        """Append a line; consecutive lines are a few milliseconds apart, as when Codex writes."""
        self.now += 1 + self.rng.getrandbits(4)
        self.items.append((self.now, type_, payload))

    def event(self, payload: dict[str, Any]) -> None:
        self.emit("event_msg", payload)

    def item(self, payload: dict[str, Any]) -> None:
        self.emit("response_item", payload)

    def emit_at(self, ms: int, type_: str | None, payload: Any) -> None:
        """Append a line stamped exactly ``ms`` (copies re-stamped at a child's spawn)."""
        self.now = ms
        self.items.append((ms, type_, payload))

    @property
    def model_label(self) -> str:
        return self.context_model if self.turn_context else "unknown"

    @property
    def tier_label(self) -> str:
        return self.tier or UNKNOWN_TIER

    @property
    def paginated(self) -> bool:
        """Whether the thread keeps paginated history (>=0.146)."""
        return False

    # ---- session_meta

    def git(self) -> dict[str, Any]:
        return {
            "commit_hash": hexid(self.rng, 40),
            "branch": self.rng.choice(("main", "main", "dev", f"feature/{self.project}-sync")),
            "repository_url": f"git@github.com:example-org/{self.project}.git",
        }

    def instructions(self) -> str:
        return f"# AGENTS.md instructions for {self.cwd}\n\n## Conventions\n" + self.fill.text_of(
            self.fill.size(1500, 0.6, 200, 8000)
        )

    def meta_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": iso(self.created_ms),
            "cwd": self.cwd,
            "originator": self.originators.get(self.source, "codex_cli_rs"),
            "cli_version": self.version,
            "instructions": self.instructions() if self.rng.random() < 0.6 else None,
            "git": self.git(),
        }

    def open(self) -> None:
        """The first lines of a new thread."""
        self.emit("session_meta", self.meta_payload())
        self.item(
            self.user_item(f"<user_instructions>\n{self.instructions()}\n</user_instructions>")
        )
        self.item(self.user_item(self.environment_context()))

    def environment_context(self) -> str:
        return (
            f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n  <approval_policy>on-request"
            "</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>"
            "restricted</network_access>\n  <shell>zsh</shell>\n</environment_context>"
        )

    # ---- response items and events

    def user_item(self, text: str) -> dict[str, Any]:
        return {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }

    def prompt(self) -> None:
        text = self.fill.text_of(self.fill.size(300, 1.0, 20, 12_000))
        self.item(self.user_item(text))
        self.event({"type": "user_message", "message": text, "images": []})
        self.ctx.prompts.append((self.id, self.now // 1000, text[:200]))

    def reasoning(self) -> None:
        summary = self.fill.text_of(self.fill.size(250, 0.8, 20, 2_000))
        self.item(
            {
                "type": "reasoning",
                "id": "rs_" + hexid(self.rng, 32),
                "summary": [{"type": "summary_text", "text": summary}],
                "content": None,
                "encrypted_content": self.fill.blob(self.fill.size(1_800, 0.7, 300, 40_000)),
            }
        )
        if self.rng.random() < 0.6:
            self.event({"type": "agent_reasoning", "text": summary})

    def tool_call(self) -> tuple[str, list[str]]:
        call_id = "call_" + hexid(self.rng, 24)
        cmd = self.rng.choice(COMMANDS).format(
            w=self.rng.choice(WORDS[:60]), f=self.rng.choice(FILES)
        )
        argv = ["bash", "-lc", cmd]
        args = orjson.dumps({"command": argv, "workdir": self.cwd, "timeout_ms": 120000}).decode()
        self.item({"type": "function_call", "name": "shell", "arguments": args, "call_id": call_id})
        return call_id, argv

    def tool_result(self, call_id: str, argv: list[str]) -> None:
        took = self.rng.uniform(0.05, 30.0)
        self.tick(0.05, 1.0)
        self.now += int(took * 1000)
        out = self.fill.text_of(self.fill.size(1_200, 1.0, 20, 60_000))
        code = 0 if self.rng.random() < 0.85 else 1
        self.event(
            {
                "type": "exec_command_end",
                "call_id": call_id,
                "command": argv,
                "cwd": self.cwd,
                "parsed_cmd": [{"type": "unknown", "cmd": argv[-1]}],
                "stdout": out,
                "stderr": "",
                "aggregated_output": out,
                "exit_code": code,
                "duration": {"secs": int(took), "nanos": int((took % 1) * 1e9)},
                "formatted_output": out,
            }
        )
        self.item(
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": self.tool_output_text(out, code, took),
            }
        )

    def tool_output_text(self, out: str, code: int, took: float) -> str:
        meta = {"exit_code": code, "duration_seconds": round(took, 1)}
        return orjson.dumps({"output": out, "metadata": meta}).decode()

    def answer(self) -> None:
        text = self.fill.text_of(self.fill.size(900, 0.9, 30, 20_000))
        self.item(
            {
                "type": "message",
                "id": "msg_" + hexid(self.rng, 32),
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            }
        )
        self.event({"type": "agent_message", "message": text})
        self.last_message = text[:300]

    # ---- token accounting

    def usage_dict(self, v: Vec) -> dict[str, int]:
        return {
            "input_tokens": v[0],
            "cached_input_tokens": v[1],
            "output_tokens": v[2],
            "reasoning_output_tokens": v[3],
            "total_tokens": v[4],
        }

    def info(self, total: Vec, last: Vec) -> dict[str, Any]:
        return {
            "total_token_usage": self.usage_dict(total),
            "last_token_usage": self.usage_dict(last),
            "model_context_window": WINDOW,
        }

    def token_count(self, info: dict[str, Any] | None) -> None:
        self.event({"type": "token_count", "info": info})

    def next_usage(self) -> Vec:
        """Usage of the next response: the whole context as input, most of it cached."""
        rng = self.rng
        fresh = self.fill.size(1_000, 0.9, 40, 30_000)
        inp = self.context + fresh
        if self.responses == 0:
            cached = min(inp, rng.choice((0, 0, 2_944, 3_456, 4_608)))
        else:
            cached = max(0, min(inp, (self.context - rng.randint(0, 3_000)) // 64 * 64))
        out = self.fill.size(320, 1.1, 6, 30_000)
        if self.effort == "low" and rng.random() < 0.5 or rng.random() < 0.12:
            reasoning = 0
        else:
            reasoning = int(out * rng.uniform(0.1, 0.9))
        self.context = inp + out
        # Explicit prompt caching writes part of the fresh input to the cache (R16).
        written = int((inp - cached) * rng.uniform(0.2, 0.9)) if self.cache_writes else 0
        return (inp, cached, out, reasoning, inp + out, written)

    def respond(self) -> None:
        """A model response finishes: the cumulative total grows by it, a token_count says so."""
        last = self.next_usage()
        self.total = vec_add(self.total or ZERO, last)
        self.turn_sum = vec_add(self.turn_sum, last)
        self.info_seen = True
        self.responses += 1
        self.usage_record(last, self.total)
        self.token_count(self.info(self.total, last))
        self.count(last)

    def count(self, last: Vec) -> None:
        """Record a genuine response, finished now, in the truth (never a copied one)."""
        if self.own:
            self.ctx.truth.responses.append(
                TrueResponse(
                    self.now,
                    self.model_label,
                    last[0],
                    last[1],
                    last[2],
                    last[3],
                    self.id,
                    last[5],
                    self.tier_label,
                )
            )

    def usage_record(self, last: Vec, thread_total: Vec) -> str:
        """Only >=0.153 writes a record per response, just before its token_count."""
        return ""

    def request_started(self) -> None:
        """Rate-limit headers of a new request: from 0.47 on, the current info is re-emitted."""

    def overflow(self) -> None:
        """Context window exceeded: Codex marks the window full, which resets the counters."""
        self.event(
            {
                "type": "error",
                "message": "Codex ran out of room in the model's context "
                "window. Start a new conversation or clear earlier history before retrying.",
            }
        )
        prev = self.total or ZERO
        last = estimate(WINDOW - prev[4])
        self.total = estimate(WINDOW)
        self.info_seen = True
        self.token_count(self.info(self.total, last))
        self.tick(1, 5)
        self.compact()

    def compact(self) -> None:
        """History compaction: a summary replaces the context; newer CLIs then post an estimate."""
        summary = self.fill.text_of(self.fill.size(3_000, 0.6, 300, 20_000))
        history = [
            self.user_item(self.fill.text_of(self.fill.size(600, 0.8, 20, 6_000)))
            for _ in range(self.rng.randint(1, 4))
        ]
        self.tick(5, 40)
        self.emit("compacted", {"message": summary, "replacement_history": history})
        self.event({"type": "context_compacted"})
        self.post_estimate()

    def post_estimate(self) -> None:
        """After a compaction the context is a summary; the total is re-stated with an estimate."""
        size = self.rng.randint(6_000, 30_000)
        if self.estimates and self.total is not None:
            self.token_count(self.info(self.total, estimate(size)))
        self.context = size

    # ---- turns

    def turn_context_payload(self) -> dict[str, Any]:
        return {
            "cwd": self.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {
                "type": "workspace-write",
                "writable_roots": [f"{self.cwd}/.cache"],
                "network_access": False,
            },
            "model": self.model,
            "summary": "auto",
        }

    def begin_turn(self) -> None:
        self.turn_sum = ZERO
        self.turn_id = self.new_id(self.now)
        if self.turn_context:
            self.emit("turn_context", self.turn_context_payload())
            self.context_model = self.model

    def end_turn(self) -> None:
        """Turn-complete events only exist from 0.118 on."""

    def turn(self, responses: int, *, spawn: bool = False, guardian: bool = False) -> None:
        """One user turn: a prompt, then tool-calling responses until a final answer."""
        self.begin_turn()
        self.prompt()
        spawn_at = self.rng.randrange(responses - 1) if spawn and responses > 1 else -1
        guardian_at = self.rng.randrange(responses - 1) if guardian and responses > 1 else -1
        for r in range(responses):
            if self.pending_reset:
                self.pending_reset = False
                self.overflow()
            elif self.pending_compaction or self.context > 0.9 * WINDOW:
                self.pending_compaction = False
                self.overflow() if self.rng.random() < 0.25 else self.compact()
            self.tick(0.5, 3)
            self.request_started()
            self.tick(2, 45)
            self.reasoning()
            if r == responses - 1 or self.now > self.deadline:
                self.answer()
                self.respond()
                break
            call_id, argv = self.tool_call()
            self.respond()
            if r == spawn_at:
                self.spawn_call()
            if r == guardian_at:
                self.guardian_call()
            self.tool_result(call_id, argv)
        self.end_turn()
        self.marks.append(Mark(len(self.items), self.now, self.total, self.model, self.context))

    def own_start(self) -> None:
        """A child's own part begins (2026 files state their own settings there)."""

    def resumed(self) -> None:
        """``codex resume`` re-opens the file (2026 files apply their settings again)."""

    def spawn_call(self) -> None:
        """A spawn_agent tool call; the subagent it starts is written as its own thread."""
        call_id = "call_" + hexid(self.rng, 24)
        task = self.fill.text_of(self.fill.size(400, 0.7, 40, 4_000))
        args = orjson.dumps({"task": task, "agent_role": "worker"}).decode()
        self.item(
            {"type": "function_call", "name": "spawn_agent", "arguments": args, "call_id": call_id}
        )
        self.spawns.append(Mark(len(self.items), self.now, self.total, self.model, self.context))
        self.tick(20, 300)
        self.item(
            {
                "type": "function_call_output",
                "call_id": call_id,
                "output": self.fill.text_of(self.fill.size(800, 0.8, 40, 8_000)),
            }
        )

    def guardian_call(self) -> None:
        self.guardian_calls.append(Mark(len(self.items), self.now, None, self.model, 0))
        self.tick(2, 20)
        self.event(
            {
                "type": "guardian_assessment",
                "risk": "low",
                "rationale": self.fill.text_of(self.fill.size(300, 0.6, 40, 2_000)),
            }
        )

    def change_model(self) -> None:
        """/model: later turns run on another model (a new turn_context says so)."""
        others = [m for m in self.models if m != self.model]
        if others:
            self.model = self.rng.choice(others)

    # ---- children

    def copy_from(self, parent: Cli034, upto: Mark, *, restamp_ms: int | None = None) -> int:
        """Append the parent's history up to ``upto``; returns how many lines were copied.

        Forks keep the parent's original timestamps; subagent replays are stamped in the spawn
        second, as Codex does.
        """
        rows = [it for it in parent.items[: upto.index] if it[1] != RAW]
        if restamp_ms is None:
            self.items.extend(rows)
        else:
            base = restamp_ms // 1000 * 1000
            n = max(1, len(rows))
            self.items.extend((base + i * 999 // n, t, p) for i, (_, t, p) in enumerate(rows))
        self.seed_from(parent, upto)
        return len(rows)

    def seed_from(self, parent: Cli034, upto: Mark) -> None:
        """Continue from the parent's state at ``upto``: its totals, model and context."""
        self.total = upto.total
        self.info_seen = upto.total is not None
        self.seed_last = parent.last_info_before(upto.index)
        self.model = self.context_model = upto.model
        self.context = upto.context

    def last_info_before(self, index: int) -> Vec:
        """The last_token_usage of the last token_count with info before item ``index``."""
        for _, t, p in reversed(self.items[:index]):
            if t == "event_msg" and p.get("type") == "token_count" and p.get("info"):
                u = p["info"]["last_token_usage"]
                return (
                    u["input_tokens"],
                    u["cached_input_tokens"],
                    u["output_tokens"],
                    u["reasoning_output_tokens"],
                    u["total_tokens"],
                    u.get("cache_write_input_tokens", 0),
                )
        return self.seed_last

    # ---- output

    def render(self) -> tuple[bytes, int]:
        """The file's bytes, and how many of them are token_count lines."""
        self.resolve_base()
        out: list[bytes] = []
        token_bytes = 0
        at = 0
        ordinal = self.first_ordinal
        self.line_starts, self.line_ordinals = [], []
        for ms, type_, payload in self.items:
            self.line_starts.append(at)
            if type_ == RAW:
                self.line_ordinals.append(None)
                out.append(payload)
                at += len(payload)
                continue
            if id(payload) in self.reused_ordinal:
                ordinal -= 1  # a resumed writer wrote the last ordinal again (R19)
            self.line_ordinals.append(ordinal)
            line = self.envelope(ms, ordinal, type_, payload)
            ordinal += 1
            out.append(line + b"\n")
            at += len(line) + 1
            if type_ == "event_msg" and payload.get("type") == "token_count":
                token_bytes += len(line) + 1
        self.line_starts.append(at)
        self.line_ordinals.append(ordinal)
        return b"".join(out), token_bytes

    def envelope(self, ms: int, ordinal: int, type_: str | None, payload: Any) -> bytes:
        """One line: Codex's key order, or for a few lines another (a reader must not care)."""
        if type_ is None:
            return orjson.dumps(payload)
        if id(payload) in self.reordered:
            doc = {"type": type_, "timestamp": iso(ms), "ordinal": ordinal, "payload": payload}
        elif self.ordinals:
            doc = {"timestamp": iso(ms), "ordinal": ordinal, "type": type_, "payload": payload}
        else:
            doc = {"timestamp": iso(ms), "type": type_, "payload": payload}
        if not self.ordinals:
            doc.pop("ordinal", None)
        return orjson.dumps(doc)

    def resolve_base(self) -> None:
        """Point ``history_base`` at the base's bytes, now that the base has been rendered."""
        if self.base_ref is None or self.history_base is None:
            return
        base, cut = self.base_ref
        index = next((i for i, item in enumerate(base.items) if item is cut), len(base.items))
        ordinal = base.line_ordinals[index]
        self.history_base["end_byte_offset"] = base.line_starts[index]
        self.history_base["end_ordinal_exclusive"] = ordinal
        self.first_ordinal = ordinal or 0

    def torn_tail(self) -> bytes:
        """Half of the token_count line Codex was writing when the snapshot was taken."""
        last: Vec = (self.context + 900, self.context // 2, 120, 40, self.context + 1020, 0)
        total = vec_add(self.total or ZERO, last)
        line = orjson.dumps(
            {
                "timestamp": iso(self.now + 4_000),
                "type": "event_msg",
                "payload": {"type": "token_count", "info": self.info(total, last)},
            }
        )
        return line[: len(line) // 2]

    @property
    def last_ms(self) -> int:
        return max(ms for ms, t, _ in self.items if t != RAW)

    def file_name(self) -> str:
        lt = self.ctx.local(self.created_ms)
        name = "rollout-" + time.strftime("%Y-%m-%dT%H-%M-%S", lt) + f"-{self.id}"
        if self.rollout_id != self.id:
            name += f"_{self.rollout_id}"
        return name + ".jsonl"

    def day_dir(self) -> str:
        return time.strftime("%Y/%m/%d", self.ctx.local(self.created_ms))

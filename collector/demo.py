"""A synthetic CODEX_HOME with known ground truth, for demos, tests and the benchmark.

Real rollouts are private, so anything that must run end to end on realistic data (the demo
dashboard, the bench, the parser's edge cases) runs on a generated home instead. The generator
follows the shared notes on the rollout format era by era, and because it writes every model
response itself it knows which ones are genuine usage: that ground truth (:class:`Truth`) is what a
correct parser must reproduce, and what every copy, re-emit, replay and estimate in the corpus is
designed to tempt it away from.

Only the standard library, orjson and zstandard are used, so the module can run anywhere the
collector runs.
"""

from __future__ import annotations

import base64
import math
import os
import random
import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import zstandard

from collector.discover import CodexHomeError

MARKER_NAME = "codextime-demo.json"
GENERATOR = "codextime demo"
DEFAULT_END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
#: Size of the default demo set: holds every era and feature, yet is written in a second.
SMALL_TARGET_BYTES = 4_000_000
WINDOW = 258_400
DAY_MS = 86_400_000
#: UTC offsets (minutes) a corpus may be "written" in, with a zone name for 2026 turn_contexts.
OFFSETS: tuple[tuple[int, str], ...] = (
    (120, "Europe/Athens"),
    (540, "Asia/Seoul"),
    (-360, "America/Chicago"),
    (480, "Asia/Shanghai"),
    (330, "Asia/Kolkata"),
    (-300, "America/Bogota"),
    (60, "Africa/Lagos"),
)
#: The token counts of a response, as reports name them (cached and cache_write are part of input).
TOKEN_KEYS = ("input", "cached", "cache_write", "output", "reasoning")
UNKNOWN_TIER = "unknown"
#: How Codex spells a service tier in ``thread_settings_applied`` -> the tier it means (R15).
TIER_SPELLINGS = {
    "priority": "priority",
    "fast": "priority",
    "default": "standard",
    "standard": "standard",
    "flex": "flex",
}

#: A line of a rollout before rendering: (timestamp ms, envelope type or None for legacy, payload).
Item = tuple[int, str | None, Any]
#: A usage vector: input, cached, output, reasoning, total_tokens, cache_write.
Vec = tuple[int, int, int, int, int, int]
RAW = "raw"  # item type of a line written verbatim (invalid JSON, bad bytes)


class NotADemoHome(CodexHomeError):
    """The folder to write into holds something other than a generated home: left untouched.

    A CodexHomeError, so the CLI prints it as one line."""


# --------------------------------------------------------------------------------------------
# Ground truth


@dataclass(frozen=True, slots=True)
class TrueResponse:
    """One genuine model response: the usage a correct parser must count exactly once.

    ``cache_write`` is part of ``input`` and disjoint from ``cached`` (R16); ``tier`` is the
    service tier in force when the response finished (R15), ``unknown`` when the file named none.
    """

    ts_ms: int
    model: str
    input: int
    cached: int
    output: int
    reasoning: int
    session: str
    cache_write: int = 0
    tier: str = UNKNOWN_TIER

    def tokens(self) -> tuple[int, ...]:
        """The counts in ``TOKEN_KEYS`` order."""
        return (self.input, self.cached, self.cache_write, self.output, self.reasoning)


def _add(sums: dict[str, int], r: TrueResponse) -> None:
    for key, value in zip(TOKEN_KEYS, r.tokens(), strict=True):
        sums[key] += value


@dataclass
class Truth:
    """Ground truth of a generated home: every genuine response, plus a few corpus figures."""

    seed: int
    utc_offset_minutes: int = 0
    responses: list[TrueResponse] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    def _by_day(self, key: str) -> dict[str, dict[str, dict[str, int]]]:
        days: dict[str, dict[str, dict[str, int]]] = {}
        for r in self.responses:
            day = time.strftime("%Y-%m-%d", time.gmtime(r.ts_ms // 1000))
            group = getattr(r, key)
            _add(days.setdefault(day, {}).setdefault(group, dict.fromkeys(TOKEN_KEYS, 0)), r)
        return {d: dict(sorted(m.items())) for d, m in sorted(days.items())}

    def by_day_utc(self) -> dict[str, dict[str, dict[str, int]]]:
        """UTC date -> model -> token sums, the shape a daily report is checked against."""
        return self._by_day("model")

    def tiers_by_day_utc(self) -> dict[str, dict[str, dict[str, int]]]:
        """UTC date -> service tier -> token sums."""
        return self._by_day("tier")

    def tiers(self) -> dict[str, dict[str, int]]:
        """Service tier -> token sums and responses over the whole corpus."""
        out: dict[str, dict[str, int]] = {}
        for r in self.responses:
            sums = out.setdefault(r.tier, {**dict.fromkeys(TOKEN_KEYS, 0), "responses": 0})
            _add(sums, r)
            sums["responses"] += 1
        return dict(sorted(out.items()))

    def totals(self) -> dict[str, int]:
        """Token sums over the whole corpus; total = input + output, as Codex counts it."""
        sums = dict.fromkeys(TOKEN_KEYS, 0)
        for r in self.responses:
            _add(sums, r)
        sums["total"] = sums["input"] + sums["output"]
        sums["responses"] = len(self.responses)
        return sums

    def to_json(self) -> bytes:
        """Compact aggregates (not every response) to keep next to, never inside, the home."""
        doc = {
            "generator": GENERATOR,
            "seed": self.seed,
            "utc_offset_minutes": self.utc_offset_minutes,
            "totals": self.totals(),
            "days": self.by_day_utc(),
            "tiers": self.tiers(),
            "tier_days": self.tiers_by_day_utc(),
            "stats": self.stats,
        }
        return orjson.dumps(doc)


# --------------------------------------------------------------------------------------------
# Cheap realistic filler


_WORD_TEXT = (
    "the a of to in is that for it with as on be this are by from or an config value "
    "request response handler client server cache token session stream buffer parse error "
    "retry timeout user model file path line test assert expected actual returned None True "
    "False self def return import from class async await yield raise except try finally with "
    "lambda list dict str int bytes len range for while if else elif pass continue break "
    "src lib app core utils tests docs main index build dist module package version update "
    "fix add remove rename refactor migrate schema table column query insert select where "
    "order group join limit offset commit branch merge rebase diff patch hunk staged "
    "warning deprecated failed passed skipped collected seconds ms ok done running compiling "
    "Finished Compiling Checking warning: error[E0308]: mismatched types --> note: help: "
    "TypeError: KeyError: ValueError: AttributeError: Traceback (most recent call last): "
    "{ } ( ) [ ] => -> :: == != <= >= && || += -= ; , . : = + - * / % # @ $ ~ "
    "useState useEffect props render component export default const let var function "
    "fn impl struct enum match Some Ok Err Vec String Option Result pub mod crate use"
)
_WORDS = tuple(_WORD_TEXT.split())
_FILES = (
    "src/app.py",
    "src/server/routes.ts",
    "crates/core/src/lib.rs",
    "tests/test_api.py",
    "web/components/Chart.tsx",
    "pkg/store/sqlite.go",
    "README.md",
    "Makefile",
    "src/models/user.py",
    "src/utils/retry.ts",
    "migrations/0004_add_index.sql",
)
_COMMANDS = (
    'rg -n "{w}" src',
    "sed -n '1,220p' {f}",
    "pytest -q tests -k {w}",
    "git status --short",
    "git diff --stat",
    "ls -la src",
    "npm test -- --run {w}",
    "cargo test {w}",
    "go test ./...",
    "cat {f}",
    "python -m mypy src",
    "ruff check .",
    "make build",
)
_PROJECTS = ("ledger", "pixel-garden", "atlas-api", "notes-sync", "quarry", "tiny-http", "orbit")
_USERS = ("sam", "ana", "dev", "kim", "lee")


class Filler:
    """Slices of a pre-built text pool: realistic-looking bulk at memcpy speed."""

    def __init__(self, rng: random.Random, size: int = 1_500_000) -> None:
        self.rng = rng
        words = rng.choices(_WORDS, k=size // 5)
        lines: list[str] = []
        i = 0
        while i < len(words):
            n = rng.randint(2, 14)
            indent = " " * (4 * rng.randint(0, 3))
            prefix = rng.choice(("", "", "", f"{rng.choice(_FILES)}:{rng.randint(1, 900)}: "))
            lines.append(indent + prefix + " ".join(words[i : i + n]))
            i += n
        self.text = "\n".join(lines)
        self.b64 = base64.urlsafe_b64encode(rng.randbytes(600_000)).decode()

    def text_of(self, n: int) -> str:
        n = max(1, min(n, len(self.text) - 1))
        at = self.rng.randrange(len(self.text) - n)
        return self.text[at : at + n]

    def blob(self, n: int) -> str:
        """An encrypted-content-like blob: ``gAAAAA`` + url-safe base64."""
        n = max(16, min(n, len(self.b64) - 1))
        at = self.rng.randrange(len(self.b64) - n)
        return "gAAAAA" + self.b64[at : at + n]

    def size(self, median: float, sigma: float, lo: int, hi: int) -> int:
        """A log-normally distributed size: most lines short, a few very long."""
        return max(lo, min(hi, int(self.rng.lognormvariate(math.log(median), sigma))))


# --------------------------------------------------------------------------------------------
# Small helpers


def iso(ms: int) -> str:
    """Codex's line timestamp: UTC, milliseconds, ``Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def uuid7(rng: random.Random, ms: int) -> str:
    """A time-ordered UUID (v7) as Codex uses from late 2025 on, deterministic for the rng."""
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hexid(rng: random.Random, digits: int = 24) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def vec_add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


def estimate(total_tokens: int) -> Vec:
    """A usage vector where only total_tokens is set: Codex's estimate, never usage (R6)."""
    return (0, 0, 0, 0, total_tokens, 0)


ZERO: Vec = (0, 0, 0, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# Corpus-wide context shared by the writers


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


# --------------------------------------------------------------------------------------------
# Era writers. Each class is one CLI era; a subclass changes only what that era changed.


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
        self.project = parent.project if parent else self.rng.choice(_PROJECTS)
        user = parent.user if parent else self.rng.choice(_USERS)
        self.user = user
        home = f"/Users/{user}/code" if hash_even(self.project) else f"/home/{user}/src"
        self.cwd = f"{home}/{self.project}"
        self.model = parent.model if parent else self.rng.choice(self.models)
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
        cmd = self.rng.choice(_COMMANDS).format(
            w=self.rng.choice(_WORDS[:60]), f=self.rng.choice(_FILES)
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
        fresh = self.fill.size(1_400, 1.0, 40, 60_000)
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


def hash_even(text: str) -> bool:
    """A stable (non-randomized) choice from a string; built-in hash() varies per process."""
    return sum(text.encode()) % 2 == 0


class Legacy(Cli034):
    """<= early Sep 2025: no envelope, bare items and state records, no token usage at all."""

    def open(self) -> None:
        self.emit(
            None,
            {
                "id": self.id,
                "timestamp": iso(self.created_ms),
                "instructions": self.instructions(),
                "git": self.git(),
            },
        )
        self.emit(None, self.user_item(self.environment_context()))
        self.emit(None, {"record_type": "state"})

    def item(self, payload: dict[str, Any]) -> None:
        self.emit(None, payload)

    def event(self, payload: dict[str, Any]) -> None:
        """Legacy files persisted no events."""

    def token_count(self, info: dict[str, Any] | None) -> None:
        """No usage in legacy files."""

    def respond(self) -> None:
        self.next_usage()
        self.responses += 1

    def overflow(self) -> None:
        self.compact()

    def compact(self) -> None:
        self.context = self.rng.randint(6_000, 30_000)

    def end_turn(self) -> None:
        self.emit(None, {"record_type": "state"})


class Cli047(Cli034):
    """cli 0.47 (Oct 2025): turn_context carries the model; rate limits arrive with every request
    and re-emit the current info (the first of a session is info: null)."""

    turn_context = True
    estimates = True
    window_minutes = (299, 10079)

    def new_id(self, ms: int) -> str:
        return uuid7(self.rng, ms)

    def rate_limit_window(self, used: float, minutes: int) -> dict[str, Any]:
        reset_s = minutes * 60 - (self.now // 1000) % (minutes * 60)
        return {"used_percent": used, "window_minutes": minutes, "resets_in_seconds": reset_s}

    def rate_limits(self) -> dict[str, Any]:
        p_min, s_min = self.window_minutes
        p = round((self.now // 1000) % (p_min * 60) / (p_min * 60) * 100, 1)
        s = round((self.now // 1000) % (s_min * 60) / (s_min * 60) * 100, 1)
        return {
            "primary": self.rate_limit_window(p, p_min),
            "secondary": self.rate_limit_window(s, s_min),
        }

    def token_count(self, info: dict[str, Any] | None) -> None:
        self.event({"type": "token_count", "info": info, "rate_limits": self.rate_limits()})

    def request_started(self) -> None:
        info = self.info(self.total, self.last_vec()) if self.info_seen and self.total else None
        self.token_count(info)

    def last_vec(self) -> Vec:
        """The last_token_usage of the most recent token_count, for an exact re-emit."""
        return self.last_info_before(len(self.items))

    def meta_payload(self) -> dict[str, Any]:
        meta = super().meta_payload()
        meta["source"] = self.source_value()
        return meta

    def source_value(self) -> Any:
        return self.source


class Cli050(Cli047):
    """cli 0.50+ (Oct 2025): rate-limit windows carry ``resets_at`` (unix seconds)."""

    def rate_limit_window(self, used: float, minutes: int) -> dict[str, Any]:
        reset_s = minutes * 60 - (self.now // 1000) % (minutes * 60)
        return {
            "used_percent": used,
            "window_minutes": minutes,
            "resets_at": self.now // 1000 + reset_s,
        }


class Cli098(Cli050):
    """cli 0.98 (Feb 2026): base_instructions in the meta; effort and collaboration_mode in
    turn_context; forks and subagents appear; dev builds write 0.0.0 / source unknown."""

    dev_builds = True
    window_minutes = (300, 10080)

    def meta_payload(self) -> dict[str, Any]:
        meta = super().meta_payload()
        meta["model_provider"] = "openai"
        meta["base_instructions"] = {
            "text": "You are Codex, a coding agent based on GPT-5. You and the user share the same "
            "workspace and collaborate to achieve the user's goals.\n\n"
            + self.fill.text_of(self.fill.size(9_000, 0.3, 3_000, 20_000))
        }
        if self.kind == "fork":
            meta["forked_from_id"] = self.parent.id if self.parent else None
        return meta

    def source_value(self) -> Any:
        if self.kind == "subagent" and self.parent is not None:
            return {
                "subagent": {
                    "thread_spawn": {
                        "parent_thread_id": self.parent.id,
                        "depth": 1,
                        "agent_nickname": "Worker",
                        "agent_role": "worker",
                    }
                }
            }
        if self.kind == "guardian":
            return {"subagent": {"other": "guardian"}}
        return self.source

    def turn_context_payload(self) -> dict[str, Any]:
        ctx = super().turn_context_payload()
        ctx["effort"] = self.effort
        ctx["personality"] = "pragmatic"
        ctx["collaboration_mode"] = {
            "mode": "default",
            "settings": {
                "model": self.model,
                "reasoning_effort": self.effort,
                "developer_instructions": "Follow the repository conventions.",
            },
        }
        ctx["user_instructions"] = self.instructions()
        ctx["truncation_policy"] = {"mode": "tokens", "limit": 10_000}
        return ctx

    def tool_output_text(self, out: str, code: int, took: float) -> str:
        return f"Exit code: {code}\nWall time: {took:.1f} seconds\nOutput:\n{out}"


class Cli118(Cli098):
    """cli 0.118 (Apr 2026): task_started/task_complete; turn ids, date and zone in turn_context;
    rate limits with limit_id and plan_type."""

    dev_builds = False
    originators = {"cli": "codex-tui", "exec": "codex_exec", "vscode": "codex_vscode"}

    def begin_turn(self) -> None:
        self.turn_sum = ZERO
        self.turn_id = self.new_id(self.now)
        self.event(
            {
                "type": "task_started",
                "turn_id": self.turn_id,
                "started_at": self.now // 1000,
                "model_context_window": WINDOW,
            }
        )
        self.emit("turn_context", self.turn_context_payload())
        self.context_model = self.model

    def end_turn(self) -> None:
        self.tick(0.05, 0.5)
        self.event(
            {
                "type": "task_complete",
                "turn_id": self.turn_id,
                "last_agent_message": self.last_message,
            }
        )

    def turn_context_payload(self) -> dict[str, Any]:
        ctx = super().turn_context_payload()
        ctx["turn_id"] = self.turn_id
        ctx["current_date"] = time.strftime("%Y-%m-%d", self.ctx.local(self.now))
        ctx["timezone"] = self.ctx.zone
        return ctx

    def rate_limits(self) -> dict[str, Any]:
        limits = super().rate_limits()
        return {
            "limit_id": "codex",
            "limit_name": None,
            **limits,
            "credits": None,
            "plan_type": "plus",
        }


class Cli144(Cli118):
    """cli 0.144 (Jul 2026): session_id (root thread), thread_source, history_mode, window id;
    ``thread_settings_applied`` events name the service tier (R15)."""

    def meta_payload(self) -> dict[str, Any]:
        meta = {"session_id": self.root_id, **super().meta_payload()}
        meta["thread_source"] = {"subagent": "subagent", "guardian": "guardian_review"}.get(
            self.kind, "user"
        )
        meta["history_mode"] = "paginated" if self.paginated else "default"
        meta["context_window"] = {"window_id": uuid7(self.rng, self.created_ms)}
        if self.kind == "guardian" and self.parent is not None:
            meta["parent_thread_id"] = self.parent.id
        return meta

    def open(self) -> None:
        super().open()
        self.start_settings()

    def start_settings(self) -> None:
        """Most threads say their settings as they start; a guardian's name no tier."""
        if self.kind == "guardian":
            self.settings_applied(None)
        elif self.rng.random() < 0.8:
            self.settings_applied(self.pick_tier_spelling())

    def pick_tier_spelling(self) -> str | None:
        """A tier as a client spells it, or None for a settings event without the key."""
        return self.rng.choice(("priority", "fast", "default", "default", "standard", "flex", None))

    def settings_applied(self, spelling: str | None) -> dict[str, Any]:
        """A settings event; without a spelling the key is absent and the tier stays (R15)."""
        settings: dict[str, Any] = {"model": self.model, "model_provider_id": "openai"}
        if spelling is not None:
            settings["service_tier"] = spelling
            self.tier = TIER_SPELLINGS[spelling]
        settings["approval_policy"] = "on-request"
        settings["cwd"] = self.cwd
        settings["collaboration_mode"] = {
            "mode": "default",
            "settings": {"developer_instructions": "Follow the repository conventions."},
        }
        payload = {"type": "thread_settings_applied", "thread_id": self.id}
        payload["thread_settings"] = settings
        self.event(payload)
        return payload

    def own_start(self) -> None:
        """A child's own part begins: it states its own tier, never the copied one's (R15)."""
        self.tier = None
        self.settings_applied(self.rng.choice(("priority", "default", "standard", "flex")))

    def resumed(self) -> None:
        """``codex resume``: the settings are applied again, the tier key kept or left out."""
        self.settings_applied(self.rng.choice((None, self.tier_spelling())))

    def tier_spelling(self) -> str | None:
        return {"priority": "priority", "standard": "standard", "flex": "flex"}.get(self.tier or "")

    def turn(self, responses: int, *, spawn: bool = False, guardian: bool = False) -> None:
        if self.kind != "guardian" and self.rng.random() < 0.04:  # /fast toggled mid-session
            self.settings_applied(self.pick_tier_spelling())
        super().turn(responses, spawn=spawn, guardian=guardian)


class Cli145(Cli144):
    """cli 0.145 (Jul 2026): cache_write_input_tokens in every TokenUsage (0 until 0.148),
    world_state items."""

    def usage_dict(self, v: Vec) -> dict[str, int]:
        return {
            "input_tokens": v[0],
            "cached_input_tokens": v[1],
            "cache_write_input_tokens": v[5],
            "output_tokens": v[2],
            "reasoning_output_tokens": v[3],
            "total_tokens": v[4],
        }

    def open(self) -> None:
        Cli118.open(self)
        self.emit(
            "world_state",
            {
                "state": {
                    "agents_md": {"directory": self.cwd, "text": self.instructions()},
                    "environments": [{"id": "local", "cwd": self.cwd}],
                }
            },
        )
        self.start_settings()


#: Events paginated files no longer persist (they mirror user turns as item_completed).
LEGACY_MESSAGE_EVENTS = frozenset(
    ("user_message", "agent_message", "agent_reasoning", "context_compacted")
)


class Cli146(Cli145):
    """cli 0.146-0.147 (Aug 2026): paginated history: an ordinal on every line, forks that
    reference their parent through ``history_base``; 0.147 can reuse an ordinal on resume."""

    ordinals = True
    paginated_share = 0.5

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        parent = self.parent
        if self.kind == "root":
            self._paginated = self.rng.random() < self.paginated_share
        elif self.kind == "subagent" and not isinstance(self, Cli151):
            self._paginated = False  # pre-V2 workers copy their parent's lines
        else:
            self._paginated = isinstance(parent, Cli146) and parent.paginated

    @property
    def paginated(self) -> bool:
        return self._paginated

    def meta_payload(self) -> dict[str, Any]:
        meta = super().meta_payload()
        if self.history_base is not None:
            meta["history_base"] = self.history_base
            if self.kind == "fork":
                meta["forked_from_ordinal_exclusive"] = self.history_base["end_ordinal_exclusive"]
        return meta

    def event(self, payload: dict[str, Any]) -> None:
        if self.paginated and payload["type"] in LEGACY_MESSAGE_EVENTS:
            if payload["type"] == "user_message":
                item = {"type": "UserMessage", "content": [{"text": payload["message"]}]}
                self.emit("event_msg", {"type": "item_completed", "item": item})
            return
        super().event(payload)

    def resumed(self) -> None:
        super().resumed()
        if self.version >= "0.147" and self.items:
            self.reused_ordinal.add(id(self.items[-1][2]))

    def reference(self, base: Cli034, mark: Mark) -> None:
        """Start as a paginated file over ``base``'s first lines, cut at ``mark`` (R12)."""
        self.history_base = {
            "thread_id": base.rollout_id,
            "end_ordinal_exclusive": 0,  # both settled once the base is rendered
            "end_byte_offset": 0,
        }
        cut = base.items[mark.index] if mark.index < len(base.items) else None
        self.base_ref = (base, cut)
        self.seed_from(base, mark)
        self.emit("session_meta", self.meta_payload())
        self.own_start()
        self.request_started()  # re-emits the seeded info: not a response (R4)


class Cli148(Cli146):
    """cli 0.148-0.149 (Aug 2026): non-zero cache writes; ``thread/revert`` writes revisions."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.cache_writes = self.rng.random() < 0.4


class Cli151(Cli148):
    """cli 0.151-0.152 (Sep 2026): MultiAgent V2 subagents: a second session_meta, the parent's
    lines stamped at the child's meta line, a trigger marker, and mostly the start ordinal."""

    replay_lines = 0
    start_ordinal = True

    def meta_payload(self) -> dict[str, Any]:
        meta = super().meta_payload()
        if self.kind == "subagent" and self.start_ordinal:
            meta["subagent_history_start_ordinal"] = 1 + self.replay_lines
        return meta

    def source_value(self) -> Any:
        value = super().source_value()
        if self.kind == "subagent":
            value["subagent"]["thread_spawn"]["depth"] = self.depth
        return value

    def spawn_call(self) -> None:
        super().spawn_call()
        # The worker's report comes back to the parent: not a trigger of the parent's turn.
        self.emit("inter_agent_communication_metadata", {"trigger_turn": False})

    def copy_v2(self, parent: Cli034, mark: Mark) -> None:
        """Own meta, then the parent's lines (its meta first) stamped at our meta line's time."""
        rows = [it for it in parent.items[: mark.index] if it[1] != RAW]
        self.replay_lines = len(rows)
        meta_ms = mark.ms + self.rng.randint(2_000, 6_000)
        self.emit_at(meta_ms, "session_meta", self.meta_payload())
        self.items.extend((meta_ms, t, p) for _, t, p in rows)
        self.seed_from(parent, mark)
        self.emit("inter_agent_communication_metadata", {"trigger_turn": True})
        self.own_start()


class Cli153(Cli151):
    """cli 0.153-0.155 (Sep 2026): a token_usage_record before every response's token_count;
    new threads paginated by default."""

    paginated_share = 0.85

    def usage_record(self, last: Vec, thread_total: Vec) -> str:
        response_id = "resp_" + hexid(self.rng, 32)
        self.emit("token_usage_record", self.record_payload(last, thread_total, response_id))
        return response_id

    def record_payload(self, last: Vec, thread_total: Vec, response_id: str) -> dict[str, Any]:
        return {
            "thread_id": self.id,
            "turn_id": self.turn_id,
            "session_id": self.root_id,
            "root_turn_id": self.turn_id,
            "response_id": response_id,
            "usage": self.usage_dict(last),
            "turn_token_usage": self.usage_dict(self.turn_sum),
            "thread_token_usage": self.usage_dict(thread_total),
        }


class Cli159(Cli153):
    """cli 0.159-0.160 (Sep-Oct 2026): model-backed compactions (local, or remote v2 that only a
    record carries), settings at compaction, richer rate limits, timer sidecars."""

    window = 0

    def open(self) -> None:
        super().open()
        if self.kind == "root" and self.ctx.first_or("timers", 0.2):
            self.sidecar = self.timers()

    def timers(self) -> bytes:
        """A scheduled-prompt sidecar: no usage, a private prompt (R17)."""
        timer = {
            "id": uuid7(self.rng, self.now),
            "trigger": {"type": "interval", "seconds": 3600},
            "prompt": self.fill.text_of(200),
            "delivery": "queue",
            "created_at": self.now // 1000,
            "next_run_at": self.now // 1000 + 3600,
            "last_run_at": None,
        }
        return orjson.dumps([{"timer": timer, "pending_run": False}], option=orjson.OPT_INDENT_2)

    def rate_limits(self) -> dict[str, Any]:
        limits = super().rate_limits()
        limits["credits"] = {"has_credits": False, "unlimited": False, "balance": None}
        limits["individual_limit"] = None
        limits["spend_control_reached"] = False
        limits["rate_limit_reached_type"] = None
        return limits

    def respond(self) -> None:
        super().respond()
        if self.ctx.first_or("reordered_keys", 0.01):  # this response's token_count
            self.reordered.add(id(self.items[-1][2]))

    def compact(self) -> None:
        """A model-backed compaction, local or remote v2 (R14), then the estimate re-statement."""
        self.settings_applied(None)
        before = self.total or ZERO
        usage: Vec = (self.context, self.context // 2 // 64 * 64, 0, 0, self.context, 0)
        summary = self.fill.size(1_500, 0.5, 200, 8_000)
        usage = (usage[0], usage[1], summary, 0, usage[0] + summary, 0)
        self.tick(5, 40)
        response_id = "resp_" + hexid(self.rng, 32)
        remote = self.ctx.seen["compactions"] % 2 == 0
        self.ctx.seen["compactions"] += 1
        if remote:  # the total does not move; only the record carries the usage
            record = self.record_payload(usage, vec_add(before, usage), response_id)
            marker = self.compacted_payload(response_id, record)
            pair = [("token_usage_record", record), ("compacted", marker)]
            if self.rng.random() < 0.5:
                pair.reverse()
            for type_, payload in pair:
                self.emit(type_, payload)
                if type_ == "token_usage_record":
                    self.count(usage)  # a counted record takes its own timestamp (R13)
        else:
            self.total = vec_add(before, usage)
            self.turn_sum = vec_add(self.turn_sum, usage)
            record = self.record_payload(usage, self.total, response_id)
            self.emit("token_usage_record", record)
            self.token_count(self.info(self.total, usage))
            self.count(usage)
            self.emit("compacted", self.compacted_payload(response_id, record))
        self.post_estimate()

    def compacted_payload(self, response_id: str, record: dict[str, Any]) -> dict[str, Any]:
        self.window += 1
        return {
            "message": self.fill.text_of(self.fill.size(3_000, 0.6, 300, 20_000)),
            "replacement_history": [
                {"type": "compaction", "encrypted_content": self.fill.blob(800)}
            ],
            "window_number": self.window,
            "first_window_id": self.root_id,
            "previous_window_id": uuid7(self.rng, self.now),
            "window_id": uuid7(self.rng, self.now),
            "compaction_response_id": response_id,
            "latest_token_usage_record": record,
            "resume_metadata": {"cwd": self.cwd},
        }


@dataclass(frozen=True)
class Era:
    """A format era: its writer, the CLI versions and models seen in it, and its share of the
    corpus's date range (eras are laid over the range in their real order)."""

    key: str
    writer: type[Cli034]
    versions: tuple[str, ...]
    models: tuple[str, ...]
    share: float

    @property
    def has_children(self) -> bool:
        return issubclass(self.writer, Cli098)

    @property
    def has_guardian(self) -> bool:
        return issubclass(self.writer, Cli144)

    @property
    def has_revisions(self) -> bool:
        return issubclass(self.writer, Cli148)


ERAS: tuple[Era, ...] = (
    Era("legacy", Legacy, ("",), (), 0.06),
    Era("0.34", Cli034, ("0.34.0", "0.36.0"), (), 0.08),
    Era("0.47", Cli047, ("0.46.0", "0.47.0"), ("gpt-5-codex", "gpt-5"), 0.08),
    Era(
        "0.50",
        Cli050,
        ("0.50.0", "0.53.0", "0.58.0"),
        ("gpt-5-codex", "gpt-5", "gpt-5.1-codex"),
        0.10,
    ),
    Era(
        "0.98",
        Cli098,
        ("0.98.0", "0.101.0"),
        ("gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.2-codex", "gpt-5.3-codex", "gpt-5-mini"),
        0.14,
    ),
    Era("0.118", Cli118, ("0.118.0", "0.120.1"), ("gpt-5.3-codex", "gpt-5.4", "gpt-5-mini"), 0.13),
    # 2026 eras (cli 0.144-0.160), about a third of the range, with the models of their dates.
    Era("0.144", Cli144, ("0.144.0",), ("gpt-5.5", "gpt-5.6-sol", "gpt-5.6-terra"), 0.04),
    Era("0.145", Cli145, ("0.145.0",), ("gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna"), 0.03),
    Era(
        "0.146", Cli146, ("0.146.2", "0.147.0"), ("gpt-5.6-sol", "gpt-5.6-luna", "gpt-6-sol"), 0.05
    ),
    Era("0.148", Cli148, ("0.148.0", "0.149.1"), ("gpt-6-sol", "gpt-6-astra", "gpt-6-luna"), 0.05),
    Era("0.151", Cli151, ("0.151.0", "0.152.1"), ("gpt-6-sol", "gpt-6-astra", "gpt-6-luna"), 0.05),
    Era(
        "0.153", Cli153, ("0.153.2", "0.155.0"), ("gpt-6-sol", "gpt-6.1-sol", "gpt-6.1-terra"), 0.05
    ),
    Era(
        "0.159",
        Cli159,
        ("0.159.0", "0.160.0"),
        ("gpt-6.1-sol", "gpt-6.2-sol", "gpt-6.2-astra", "gpt-6.1-terra", "gpt-reserve"),
        0.05,
    ),
)
GUARDIAN_MODEL = "codex-auto-review"


# --------------------------------------------------------------------------------------------
# Families: a root session with its resumes, forks, subagents and guardian reviews


@dataclass
class Plan:
    """What one family of threads does; anchors force features so small corpora still have them."""

    era: Era
    turns: int
    responses: float  # mean responses per turn
    resumes: int = 0
    model_change: bool = False
    reset: bool = False
    compaction: bool = False
    forks: int = 0
    subagents: int = 0
    guardians: int = 0
    revisions: int = 0
    source: str = "cli"


class Corpus:
    """Writes families of threads into a CODEX_HOME and decides where each file ends up."""

    def __init__(
        self, out: Path, ctx: Ctx, start_ms: int, compress_before_ms: int, place: random.Random
    ) -> None:
        self.out = out
        self.ctx = ctx
        self.rng = ctx.rng
        #: Placement and noise draw from their own stream, so that how files are stored never
        #: changes which sessions are generated.
        self.place = place
        self.paced_bytes = 0
        self.start_ms = start_ms
        self.compress_before_ms = compress_before_ms
        self.zstd = zstandard.ZstdCompressor(level=3)
        self.jsonl_bytes = 0
        self.disk_bytes = 0
        self.token_bytes = 0
        self.families = 0
        self.old_files = 0
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "files",
                "threads",
                "legacy_files",
                "forks",
                "subagents",
                "guardians",
                "revisions",
                "paginated_forks",
                "v2_subagents",
                "nested_subagents",
                "timer_sidecars",
                "zst_multi_frame",
                "resumed",
                "model_changes",
                "resets",
                "compactions",
                "archived",
                "archived_and_active",
                "archived_renamed",
                "zst",
                "zst_with_plain",
                "invalid_lines",
                "non_utf8_lines",
            ),
            0,
        )
        self.plain_noise = False
        self.eras = ERAS
        self.live: Cli034 | None = None
        self.live_path: Path | None = None

    # ---- timeline

    def era_bounds(self) -> list[tuple[int, int, Era]]:
        span = self.ctx.end_ms - self.start_ms
        bounds = []
        at = self.start_ms
        total = sum(e.share for e in self.eras)
        for era in self.eras:
            width = int(span * era.share / total)
            bounds.append((at, at + width, era))
            at += width
        return bounds

    def era_at(self, ms: int) -> Era:
        """The era of a session starting at ``ms``; a quarter still run the previous CLI."""
        bounds = self.era_bounds()
        for i, (lo, hi, era) in enumerate(bounds):
            if lo <= ms < hi or i == len(bounds) - 1:
                if i > 0 and self.rng.random() < 0.25:
                    return bounds[i - 1][2]
                return era
        return self.eras[-1]

    # ---- planning

    def plan(self, era: Era, *, anchor: int = 0, size: float = 1.0) -> Plan:
        rng = self.rng
        turns = max(1, min(40, int(rng.lognormvariate(1.1, 0.7) * size) + 1))
        plan = Plan(era, turns=turns, responses=max(1.5, rng.lognormvariate(1.7, 0.6) * size))
        plan.source = rng.choice(("cli",) * 8 + ("exec", "vscode"))
        plan.resumes = 1 if rng.random() < 0.15 else 0
        plan.model_change = bool(era.models) and rng.random() < 0.12
        plan.reset = era.key != "legacy" and rng.random() < 0.05
        plan.compaction = rng.random() < 0.08
        # About one thread in ten is a fork or a subagent, as in real homes.
        if era.has_children:
            plan.forks = 1 if rng.random() < 0.05 else 0
            plan.subagents = rng.choice((0,) * 12 + (1, 1, 2))
        if era.has_guardian:
            plan.guardians = rng.choice((0,) * 6 + (1,))
        if era.has_revisions:
            plan.revisions = rng.choice((0,) * 8 + (1, 2))
        if anchor == 1:
            plan.turns = max(plan.turns, 3)
            plan.resumes = 1
            plan.model_change = bool(era.models)
            plan.compaction = True
            plan.forks = 1 if era.has_children else 0
            plan.revisions = 2 if era.has_revisions else 0
        elif anchor == 2:
            plan.turns = max(plan.turns, 2)
            plan.reset = era.key != "legacy"
            plan.compaction = True
            plan.subagents = 2 if era.has_children else 0
            plan.guardians = 1 if era.has_guardian else 0
        return plan

    # ---- playing threads

    def new_writer(self, era: Era, created_ms: int, **kw: Any) -> Cli034:
        version = self.rng.choice(era.versions)
        return era.writer(self.ctx, version, era.models, created_ms, **kw)

    def responses(self, mean: float) -> int:
        return max(1, min(200, int(self.rng.expovariate(1 / mean)) + 1))

    def play(self, w: Cli034, plan: Plan, turns: int, limit_ms: int, *, kids: bool) -> None:
        """Run ``turns`` turns (fewer if the clock reaches ``limit_ms``)."""
        rng = self.rng
        reset_turn = rng.randrange(turns) if plan.reset else -1
        compact_turn = rng.randrange(turns) if plan.compaction else -1
        change_turn = rng.randrange(1, turns) if plan.model_change and turns > 1 else -1
        spawn_turns = {rng.randrange(turns) for _ in range(plan.subagents)} if kids else set()
        guard_turns = {rng.randrange(turns) for _ in range(plan.guardians)} if kids else set()
        for t in range(turns):
            if w.now > limit_ms:
                break
            if t == change_turn:
                w.change_model()
                self.stats["model_changes"] += 1
            if t == reset_turn:
                w.pending_reset = True
                self.stats["resets"] += 1
            if t == compact_turn:
                w.pending_compaction = True
                self.stats["compactions"] += 1
            n = self.responses(plan.responses)
            w.turn(n, spawn=t in spawn_turns and n > 1, guardian=t in guard_turns)
            w.tick(20, 1_200)

    def family(self, start_ms: int, plan: Plan) -> None:
        rng = self.rng
        limit = self.ctx.end_ms - 15 * 60_000
        root = self.new_writer(plan.era, start_ms, source=plan.source)
        root.open()
        self.play(root, plan, plan.turns, limit, kids=True)
        for _ in range(plan.resumes):
            later = root.now + int(rng.uniform(0.3, 5) * DAY_MS)
            if later > limit - 3_600_000:
                break
            root.now = later
            root.resumed()
            again = Plan(plan.era, turns=rng.randint(1, 4), responses=plan.responses)
            self.play(root, again, again.turns, limit, kids=False)
            self.stats["resumed"] += 1
        threads = [root]
        for mark in root.spawns:
            threads += self.subagent(root, plan, mark, limit)
        for mark in root.guardian_calls:
            threads.append(self.guardian(root, plan, mark))
        for _ in range(plan.forks):
            fork = self.fork(root, plan, limit)
            if fork is not None:
                threads.append(fork)
        base = root
        for _ in range(plan.revisions if root.paginated else 0):
            revision = self.revision(base, plan, limit)
            if revision is None:
                break
            threads.append(revision)
            base = revision  # the next revision revises this one
        for w in threads:  # a base is always written before the files that reference it
            self.write(w)
        self.families += 1

    def revision(self, base: Cli034, plan: Plan, limit: int) -> Cli034 | None:
        """``thread/revert``: the same thread in a new file over ``base``'s lines up to a turn's
        end; the base keeps the reverted turns after the cut (R12)."""
        marks = [m for m in base.marks if m.total is not None and m.index < len(base.items)]
        if not marks or not isinstance(base, Cli146):
            return None
        mark = self.rng.choice(marks)
        created = base.last_ms + int(self.rng.uniform(60, 3 * 3600) * 1000)
        if created > limit - 600_000:
            return None
        child = self.new_writer(
            plan.era,
            created,
            kind="revision",
            parent=base,
            root_id=base.root_id,
            source=base.source,
        )
        assert isinstance(child, Cli146)
        child.id = base.id
        child.rollout_id = uuid7(self.rng, created)
        child.reference(base, mark)
        self.play(child, plan, self.rng.randint(1, 3), limit, kids=False)
        self.stats["revisions"] += 1
        return child

    def fork(self, parent: Cli034, plan: Plan, limit: int) -> Cli034 | None:
        """A user fork: own meta, the parent's meta and history with original stamps, own turns."""
        marks = [m for m in parent.marks if m.total is not None]
        if not marks:
            return None
        mark = self.rng.choice(marks)
        created = mark.ms + int(self.rng.uniform(60, 4 * 3600) * 1000)
        if created > limit - 600_000:
            return None
        child = self.new_writer(plan.era, created, kind="fork", parent=parent)
        if isinstance(child, Cli146) and child.paginated:  # references, copies nothing (R12)
            child.reference(parent, mark)
            self.stats["paginated_forks"] += 1
        else:
            child.emit("session_meta", child.meta_payload())
            child.copy_from(parent, mark)
            child.now = created
            child.own_start()
        self.play(child, plan, self.rng.randint(1, 3), limit, kids=False)
        self.stats["forks"] += 1
        return child

    def subagent(self, parent: Cli034, plan: Plan, mark: Mark, limit: int) -> list[Cli034]:
        """A spawned worker: the parent's history copied in (re-stamped), then own turns; in V2
        eras now and then a worker of its own. Returns the worker and its descendants."""
        child = self.new_writer(
            plan.era, mark.ms, kind="subagent", parent=parent, root_id=parent.root_id
        )
        if isinstance(child, Cli151):
            # Grandchildren always say where their own lines start: their copied prefix holds
            # their parent's trigger marker, so the marker alone would cut it short (R18).
            child.start_ordinal = child.depth > 1 or not self.ctx.first_or("v2_no_start", 0.3)
            child.copy_v2(parent, mark)
            self.stats["v2_subagents"] += 1
        else:
            child.emit("session_meta", child.meta_payload())
            child.copy_from(parent, mark, restamp_ms=mark.ms)
            child.now = mark.ms // 1000 * 1000 + 1_000 + self.rng.randint(0, 900)
            child.own_start()
        if self.rng.random() < 0.5:
            child.model = "gpt-5-mini" if "gpt-5-mini" in child.models else child.model
        small = Plan(plan.era, turns=1, responses=plan.responses)
        self.play(child, small, self.rng.randint(1, 2), limit, kids=False)
        self.stats["subagents"] += 1
        family = [child]
        if isinstance(child, Cli151) and child.depth == 1 and self.ctx.first_or("nested", 0.2):
            child.turn(max(2, self.responses(plan.responses)), spawn=True)
            if child.spawns:
                family += self.subagent(child, plan, child.spawns[-1], limit)
                self.stats["nested_subagents"] += 1
        return family

    def guardian(self, parent: Cli034, plan: Plan, mark: Mark) -> Cli034:
        """An auto-review thread: fresh context, its own (real) usage on codex-auto-review."""
        child = self.new_writer(
            plan.era,
            mark.ms,
            kind="guardian",
            parent=parent,
            root_id=parent.root_id,
        )
        child.models = (GUARDIAN_MODEL,)
        child.model = GUARDIAN_MODEL
        child.effort = "low"
        child.version = parent.version
        child.open()
        child.turn(self.rng.randint(1, 2))
        self.stats["guardians"] += 1
        return child

    # ---- files

    def write(self, w: Cli034, *, live: bool = False) -> None:
        """Render a thread and place it: plain or zstd, active or archived, with stray copies."""
        last_ms = w.last_ms
        old = not live and last_ms < self.ctx.end_ms - 2 * DAY_MS
        compress = not live and last_ms < self.compress_before_ms
        noise = 0 if live else self.inject_noise(w, compress)
        data, token_bytes = w.render()
        self.paced_bytes += len(data) - noise
        name = w.file_name()
        active = self.out / "sessions" / w.day_dir() / name
        archive = self.out / "archived_sessions" / name
        self.stats["threads"] += 1
        self.stats["legacy_files"] += isinstance(w, Legacy)
        if live:
            self.live, self.live_path = w, active
        k = self.old_files = self.old_files + old
        if old and k % 97 == 6:
            self.put(active, data, token_bytes, last_ms, compress)
            self.put(archive, data, token_bytes, last_ms, compress)
            self.stats["archived_and_active"] += 1
        elif old and k % 131 == 12:
            self.put(active, data, token_bytes, last_ms, compress)
            renamed = name.replace(w.rollout_id, uuid4(self.place))
            self.put(archive.with_name(renamed), data, token_bytes, last_ms, compress)
            self.stats["archived_renamed"] += 1
        elif old and self.place.random() < 0.08:
            self.put(archive, data, token_bytes, last_ms, compress)
            self.stats["archived"] += 1
            active = archive
        else:
            self.put(active, data, token_bytes, last_ms, compress)
        if compress and k % 53 == 4:  # compressed, but the plain original was never removed
            self.put(active, data, token_bytes, last_ms, compress=False)
            self.stats["zst_with_plain"] += 1
        if w.sidecar is not None:
            self.put_sidecar(active.with_name(name + ".timers.json"), w.sidecar)

    def put_sidecar(self, path: Path, data: bytes) -> None:
        """A timers sidecar next to its rollout (and once, a temp file left by a crash)."""
        path.write_bytes(data)
        if self.stats["timer_sidecars"] == 0:
            path.with_name(f"{path.name}.tmp-{uuid4(self.place)}").write_bytes(
                data[: len(data) // 2]
            )
        self.stats["timer_sidecars"] += 1

    def frames(self, data: bytes) -> bytes:
        """zstd of ``data``: one frame, or now and then several frames cut at line ends (R17)."""
        first = self.stats["zst_multi_frame"] == 0
        if len(data) < 4_096 or not (first or self.place.random() < 0.2):
            return self.zstd.compress(data)
        cuts = {0, len(data)}
        for _ in range(self.place.randint(1, 3)):
            end = data.find(b"\n", self.place.randrange(len(data) // 8, len(data) - 1))
            cuts.add(len(data) if end < 0 else end + 1)
        bounds = sorted(cuts)
        if len(bounds) > 2:
            self.stats["zst_multi_frame"] += 1
        return b"".join(
            self.zstd.compress(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)
        )

    def put(self, path: Path, data: bytes, token_bytes: int, last_ms: int, compress: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if compress:
            blob = self.frames(data)
            path = path.with_name(path.name + ".zst")
            mtime = last_ms / 1000 + 7 * 86_400
            self.stats["zst"] += 1
        else:
            blob = data
            mtime = last_ms / 1000
        path.write_bytes(blob)
        os.utime(path, (mtime, mtime))
        self.jsonl_bytes += len(data)
        self.disk_bytes += len(blob)
        self.token_bytes += token_bytes
        self.stats["files"] += 1

    def inject_noise(self, w: Cli034, compress: bool) -> int:
        """Now and then a line torn by a crash, a blank line or a line of non-UTF-8 bytes.

        The first few files that can take one always get one, so small corpora have them too.
        Returns the length of the line added.
        """
        if isinstance(w, Legacy) or len(w.items) < 8:
            return 0
        rng = self.place
        roll = rng.random()
        stats = self.stats
        if stats["non_utf8_lines"] == 0 and stats["threads"] >= 5 or roll < 0.01:
            line = (
                b'{"timestamp":"'
                + iso(w.created_ms + 60_000).encode()
                + b'","type":"event_msg","payload":{"type":"exec_command_end","stdout":"'
                + b'\xff\xfe\x89PNG \xc3( binary output\xa0"}}\n'
            )
            stats["non_utf8_lines"] += 1
        elif stats["invalid_lines"] < 2 or not compress and not self.plain_noise or roll < 0.04:
            torn = (
                b'{"timestamp":"'
                + iso(w.created_ms + 90_000).encode()
                + b'","type":"response_item","payload":{"type":"function_call_output","output":"Ex'
            )
            line = rng.choice((torn + b"\n", b"\n", b"Traceback (most recent call last):\n"))
            stats["invalid_lines"] += 1
            self.plain_noise = self.plain_noise or not compress
        else:
            return 0
        at = rng.randrange(2, len(w.items))
        w.items.insert(at, (w.items[at][0], RAW, line))
        return len(line)

    def finish(self) -> None:
        """Tear the newest file's last line, as a snapshot taken mid-write would."""
        if self.live is not None and self.live_path is not None:
            tail = self.live.torn_tail()
            with self.live_path.open("ab") as fh:
                fh.write(tail)
            self.jsonl_bytes += len(tail)
            self.disk_bytes += len(tail)


# --------------------------------------------------------------------------------------------
# Entry point


def generate(
    out: Path,
    *,
    seed: int = 7,
    days: int = 60,
    end: datetime | None = None,
    target_bytes: int | None = None,
    compress_older_than_days: int = 7,
    eras: tuple[str, ...] | None = None,
) -> Truth:
    """Write a synthetic CODEX_HOME at ``out`` and return the ground truth of its usage.

    ``target_bytes`` counts JSONL bytes before zstd: sessions are added day by day until their
    rollouts reach about that size (the few stray copies come on top); ``days`` bounds the date
    range. Output is the same for the same arguments, and ``compress_older_than_days`` changes only
    how files are stored, never which sessions exist. ``out`` must be missing, empty or an earlier
    demo home (which is replaced), so a real home is never touched. ``eras`` (keys of
    :data:`ERAS`, oldest first) limits the home to those eras, laid over the whole range.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not is_demo_home(out):
            raise NotADemoHome(
                f"{out} is not empty and holds no readable demo marker ({MARKER_NAME}); "
                "not touching it, choose another folder"
            )
        shutil.rmtree(out)
    end = end or DEFAULT_END
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    rng = random.Random(seed)
    offset, zone = rng.choice(OFFSETS)
    truth = Truth(seed=seed, utc_offset_minutes=offset)
    end_ms = int(end.timestamp() * 1000)
    start_ms = end_ms - days * DAY_MS
    ctx = Ctx(rng, Filler(rng), truth, end_ms, offset, zone)
    place = random.Random(f"placement/{seed}")
    corpus = Corpus(out, ctx, start_ms, end_ms - compress_older_than_days * DAY_MS, place)
    if eras is not None:
        corpus.eras = tuple(e for e in ERAS if e.key in eras)
        if len(corpus.eras) != len(set(eras)):
            raise ValueError(f"unknown eras in {eras}; known: {[e.key for e in ERAS]}")
    target = target_bytes if target_bytes is not None else SMALL_TARGET_BYTES
    out.mkdir(parents=True, exist_ok=True)

    anchors = _anchors(corpus)
    # Sessions per day follow the remaining budget over a fixed size of a typical family (measured
    # over all eras), not a running mean: legacy families are small, and a running mean would
    # crowd the first days and starve the last.
    mean_family = 520_000.0
    for day in range(days):
        day_ms = start_ms + day * DAY_MS
        starts = [(ms, kind, era) for ms, kind, era in anchors if day_ms <= ms < day_ms + DAY_MS]
        remaining = target - corpus.paced_bytes
        if remaining > 0:
            busy = rng.uniform(0.4, 1.6) * (0.5 if _weekend(ctx, day_ms) else 1.0)
            expected = remaining / (days - day) / mean_family * busy
            count = int(expected) + (1 if rng.random() < expected % 1 else 0)
            starts += [(_work_time(ctx, day_ms), 0, None) for _ in range(count)]
        for ms, kind, era in sorted(starts, key=lambda s: s[0]):
            if not start_ms <= ms < end_ms - 3 * 3600_000:
                continue
            chosen = era or corpus.era_at(ms)
            corpus.family(ms, corpus.plan(chosen, anchor=kind, size=0.35 if kind else 1.0))

    _live_session(corpus)
    corpus.finish()
    _extras(out, ctx)
    (out / MARKER_NAME).write_bytes(
        orjson.dumps({"demo": True, "generator": GENERATOR, "seed": seed})
    )
    truth.responses.sort(key=lambda r: (r.ts_ms, r.session))
    truth.stats = {
        **corpus.stats,
        "jsonl_bytes": corpus.jsonl_bytes,
        "disk_bytes": corpus.disk_bytes,
        "token_count_bytes": corpus.token_bytes,
    }
    return truth


def _anchors(corpus: Corpus) -> list[tuple[int, int, Era]]:
    """Two sessions per era at fixed points of its segment, carrying the forced features."""
    out = []
    for lo, hi, era in corpus.era_bounds():
        for kind, frac in ((1, 0.25), (2, 0.65)):
            day = lo + int((hi - lo) * frac) // DAY_MS * DAY_MS
            ms = _work_time(corpus.ctx, day)
            if ms < lo:
                ms += DAY_MS
            out.append((min(max(ms, lo), hi - 1), kind, era))
    return out


def _work_time(ctx: Ctx, day_ms: int) -> int:
    """A session start on the given UTC day, at an hour people in the corpus's zone work."""
    rng = ctx.rng
    hour = rng.choices(
        range(24), weights=(1, 1, 0, 0, 0, 0, 0, 1, 3, 6, 8, 8, 6, 7, 8, 8, 7, 6, 4, 3, 4, 4, 3, 2)
    )[0]
    local_midnight = (day_ms + ctx.offset_min * 60_000) // DAY_MS * DAY_MS
    ms = local_midnight - ctx.offset_min * 60_000 + hour * 3_600_000
    return ms + rng.randrange(3_600_000)


def _weekend(ctx: Ctx, day_ms: int) -> bool:
    return ctx.local(day_ms).tm_wday >= 5


def _live_session(corpus: Corpus) -> None:
    """A session still running at ``end``: the newest file, whose last line is torn."""
    ctx = corpus.ctx
    era = corpus.eras[-1]
    w = corpus.new_writer(era, ctx.end_ms - 80 * 60_000)
    w.deadline = ctx.end_ms - 4 * 60_000
    w.open()
    plan = corpus.plan(era)
    for _ in range(3):
        if w.now > ctx.end_ms - 15 * 60_000:
            break
        w.turn(corpus.responses(plan.responses))
        w.tick(20, 300)
    corpus.write(w, live=True)


def _extras(out: Path, ctx: Ctx) -> None:
    """Files a real home has next to the rollouts, which a usage reader must leave alone."""
    history = b"".join(
        orjson.dumps({"session_id": sid, "ts": ts, "text": text}) + b"\n"
        for sid, ts, text in ctx.prompts
    )
    (out / "history.jsonl").write_bytes(history)
    (out / "config.toml").write_text('model = "gpt-5.5"\nmodel_reasoning_effort = "medium"\n')
    (out / "log").mkdir(exist_ok=True)
    (out / "log" / "codex-tui.log").write_text(
        "".join(
            f"{iso(ctx.end_ms - i * 60_000)} INFO codex_core: turn finished\n"
            for i in range(50, 0, -1)
        )
    )


def is_demo_home(path: Path) -> bool:
    """Whether ``path`` holds a home this module generated (its marker file says so)."""
    marker = Path(path) / MARKER_NAME
    try:
        doc = orjson.loads(marker.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("demo") is True


if __name__ == "__main__":  # pragma: no cover - a convenience for trying the generator by hand
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-home")
    began = time.perf_counter()
    result = generate(target)
    print(orjson.dumps(result.totals()).decode(), f"{time.perf_counter() - began:.2f}s")

"""The CLI eras after 0.34, oldest first, and :data:`ERAS`, the table a corpus draws them from.

Each writer subclasses the previous era's and overrides only what its CLI changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from collector.demo.lines import RAW, WINDOW, ZERO, Vec, hexid, iso, uuid7, vec_add
from collector.demo.writer import Cli034, Mark

#: How Codex spells a service tier in ``thread_settings_applied`` -> the tier it means (R15).
TIER_SPELLINGS = {
    "priority": "priority",
    "fast": "priority",
    "default": "standard",
    "standard": "standard",
    "flex": "flex",
}


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

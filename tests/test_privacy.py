"""Nothing private leaves the machine: canaries in every private field of the format doc (§7).

Each field below gets a unique canary string; `scan --json` (exactly what a sync sends) and the
store a sync writes must contain none of them, nor the raw session ids.
"""

from __future__ import annotations

import sqlite3

import orjson
import pydantic
import pytest
from typer.testing import CliRunner

from collector.cli import app
from store.fields import RECORD_FIELDS
from store.record import UsageRecord
from tests.rollout import line, session_path, usage, write

THREAD = "019a152d-35a0-72a0-91db-8ebe37fac69e"
ROOT = "019a0000-0000-7000-8000-00000000c0de"
CANARIES: list[str] = []


def c(name: str) -> str:
    value = f"CANARY-{name}-7f3a"
    CANARIES.append(value)
    return value


def private_rollout() -> list[dict | bytes]:
    ts = "2026-07-10T10:00:0{}.000Z"
    legacy_first = {
        "id": "0006b370-3ba0-4783-b4ad-22ce45b53420",
        "timestamp": ts.format(0),
        "instructions": c("legacy-instructions"),
        "git": {
            "commit_hash": c("legacy-commit"),
            "branch": c("legacy-branch"),
            "repository_url": c("legacy-repo"),
        },
    }
    meta = line(
        ts.format(0),
        "session_meta",
        {
            "id": THREAD,
            "session_id": ROOT,
            "timestamp": ts.format(0),
            "cwd": c("meta-cwd"),
            "workspace_roots": [c("meta-workspace-root")],
            "originator": c("meta-originator"),
            "cli_version": "0.144.0",
            "instructions": c("meta-instructions"),
            "base_instructions": {"text": c("meta-base-instructions")},
            "user_instructions": c("meta-user-instructions"),
            "git": {
                "commit_hash": c("meta-commit"),
                "branch": c("meta-branch"),
                "repository_url": c("meta-repo"),
            },
            "dynamic_tools": [{"name": c("meta-tool-name"), "description": c("meta-tool-desc")}],
            "agent_nickname": c("meta-nickname"),
            "agent_role": c("meta-role"),
            "agent_path": c("meta-agent-path"),
            "memory_mode": c("meta-memory-mode"),
            "source": "cli",
            "thread_source": "user",
            "model_provider": "openai",
        },
    )
    turn = line(
        ts.format(1),
        "turn_context",
        {
            "cwd": c("turn-cwd"),
            "workspace_roots": [c("turn-workspace-root")],
            "sandbox_policy": {"type": "workspace-write", "writable_roots": [c("turn-writable")]},
            "file_system_sandbox_policy": {"entries": [{"path": c("turn-fs-path")}]},
            "permission_profile": {"file_system": {"entries": [{"path": c("turn-perm-path")}]}},
            "user_instructions": c("turn-user-instructions"),
            "developer_instructions": c("turn-developer-instructions"),
            "base_instructions": c("turn-base-instructions"),
            "collaboration_mode": {
                "mode": "default",
                "settings": {"model": "gpt-5.4", "developer_instructions": c("turn-collab-dev")},
            },
            "final_output_json_schema": {"title": c("turn-output-schema")},
            "timezone": c("turn-timezone"),
            "current_date": c("turn-current-date"),
            "model": "gpt-5.4",
            "effort": "high",
        },
    )

    def item(kind: str, payload: dict) -> dict:
        return line(ts.format(2), kind, payload)

    def msg(payload: dict) -> dict:
        return item("event_msg", payload)

    items = [
        item(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": c("msg-input") + " <cwd>" + c("env-cwd") + "</cwd>",
                    },
                ],
            },
        ),
        item(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": c("msg-output")}],
            },
        ),
        item(
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"text": c("reasoning-summary")}],
                "content": [{"text": c("reasoning-content")}],
                "encrypted_content": "gAAAAA" + c("reasoning-encrypted"),
            },
        ),
        item("response_item", {"type": "function_call", "arguments": c("fn-arguments")}),
        item("response_item", {"type": "function_call_output", "output": c("fn-output")}),
        item("response_item", {"type": "custom_tool_call", "input": c("custom-input")}),
        item("response_item", {"type": "custom_tool_call_output", "output": c("custom-output")}),
        item("response_item", {"type": "local_shell_call", "action": {"command": [c("shell")]}}),
        item("response_item", {"type": "web_search_call", "action": {"query": c("web-query")}}),
        item("response_item", {"type": "image_generation_call", "result": c("image-result")}),
        item("response_item", {"type": "ghost_snapshot", "ghost_commit": c("ghost")}),
        item("response_item", {"type": "compaction", "encrypted_content": c("compaction")}),
        msg(
            {
                "type": "user_message",
                "message": c("user-message"),
                "images": [c("images")],
                "local_images": [c("local-images")],
                "text_elements": [c("text-elements")],
            }
        ),
        msg({"type": "agent_message", "message": c("agent-message")}),
        msg({"type": "agent_reasoning", "text": c("agent-reasoning")}),
        msg({"type": "agent_reasoning_raw_content", "text": c("agent-reasoning-raw")}),
        msg(
            {
                "type": "exec_command_end",
                "command": [c("exec-command")],
                "cwd": c("exec-cwd"),
                "parsed_cmd": [c("exec-parsed")],
                "stdout": c("exec-stdout"),
                "stderr": c("exec-stderr"),
                "aggregated_output": c("exec-aggregated"),
                "formatted_output": c("exec-formatted"),
            }
        ),
        msg(
            {
                "type": "patch_apply_end",
                "changes": {c("patch-path"): {}},
                "stdout": c("patch-stdout"),
                "stderr": c("patch-stderr"),
            }
        ),
        msg(
            {
                "type": "mcp_tool_call_end",
                "invocation": {"arguments": c("mcp-args")},
                "result": c("mcp-result"),
            }
        ),
        msg({"type": "web_search_end", "query": c("web-search-end")}),
        msg({"type": "view_image_tool_call", "path": c("view-image")}),
        msg({"type": "task_complete", "last_agent_message": c("task-complete")}),
        msg({"type": "turn_aborted", "reason": c("turn-aborted")}),
        msg({"type": "entered_review_mode", "prompt": c("review-prompt")}),
        msg({"type": "exited_review_mode", "findings": [{"absolute_file_path": c("finding")}]}),
        msg({"type": "thread_name_updated", "thread_name": c("thread-name")}),
        msg({"type": "thread_goal_updated", "goal": c("thread-goal")}),
        msg({"type": "error", "message": c("error-message")}),
        msg({"type": "collab_agent_spawn_end", "prompt": c("collab")}),
        msg({"type": "dynamic_tool_call_request", "arguments": c("dynamic-tool-args")}),
        item(
            "compacted",
            {
                "message": c("compacted-message"),
                "replacement_history": [c("replacement-history")],
                "retained_context": c("retained-context"),
            },
        ),
        item(
            "world_state",
            {
                "state": {
                    "agents_md": {"directory": c("agents-dir"), "text": c("agents-text")},
                    "environments": [c("environments")],
                    "host_skills": {"body": c("host-skills")},
                }
            },
        ),
        item("inter_agent_communication", {"message": c("inter-agent")}),
    ]
    u = usage(1200, 200, 300, 100)
    count = line(
        ts.format(5),
        "event_msg",
        {
            "type": "token_count",
            "info": {"total_token_usage": u, "last_token_usage": u, "model_context_window": 1},
            "rate_limits": {
                "limit_id": c("limit-id"),
                "plan_type": c("plan-type"),
                "credits": {"balance": c("credits-balance")},
            },
        },
    )
    return [orjson.dumps(legacy_first), meta, turn, *items, count]


def test_no_private_field_leaves_the_machine(tmp_path):
    home = tmp_path / "codex"
    write(session_path(home, "2026-07-10T12-00-00", THREAD), private_rollout())
    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", "--json", "--codex-home", str(home)])
    assert scanned.exit_code == 0, scanned.output
    records = orjson.loads(scanned.stdout)["records"]
    assert len(records) == 1  # the canaries did not hide the one real response
    assert records[0]["input"] == 1200 and records[0]["model"] == "gpt-5.4"
    assert set(records[0]) == set(RECORD_FIELDS)

    db = tmp_path / "store.db"
    synced = runner.invoke(app, ["sync", "--codex-home", str(home), "--db", f"sqlite:///{db}"])
    assert synced.exit_code == 0, synced.output
    with sqlite3.connect(db) as conn:
        stored = "\n".join(conn.iterdump()).encode() + db.read_bytes()

    assert len(CANARIES) > 80
    for where, text in (("scan --json", scanned.stdout.encode()), ("store", stored)):
        for canary in CANARIES:
            assert canary.encode() not in text, f"{canary} leaked into {where}"
        for raw_id in (THREAD, ROOT):
            assert raw_id.encode() not in text, f"raw session id leaked into {where}"


def test_record_type_cannot_hold_other_fields():
    fields = dict(
        ts="2026-07-10T10:00:05Z",
        model="gpt-5",
        input=1,
        cached=0,
        output=1,
        reasoning=0,
        event_id="a" * 32,
        session="b" * 32,
    )
    assert UsageRecord(**fields).model_dump().keys() == set(RECORD_FIELDS)
    with pytest.raises(pydantic.ValidationError, match="cwd"):
        UsageRecord(**fields, cwd="/home/me/secret-project")
    with pytest.raises(pydantic.ValidationError):
        UsageRecord(**{**fields, "event_id": THREAD})  # a raw id is not a hash
    with pytest.raises(pydantic.ValidationError):
        UsageRecord(**{**fields, "cached": 2})  # cached is part of input


def test_model_names_that_look_like_paths_are_replaced():
    from collector.parse import clean_model

    assert clean_model("gpt-5.1-codex-max") == "gpt-5.1-codex-max"
    assert clean_model("openai/gpt-5") == "openai/gpt-5"
    assert clean_model("gpt-oss:20b") == "gpt-oss:20b"
    assert clean_model("/home/alice/models/secret.gguf") == "custom"
    assert clean_model("C:\\Users\\alice\\model") == "custom"
    assert clean_model("please summarise my tax return") == "custom"


def test_event_ids_are_keyed_hashes_of_the_identity_and_depend_on_the_key():
    from collector.keys import event_hash, keyed_hash

    identity = b"1761336000000|10,0,5,0,15|10,0,5,0,15"
    for key in (b"codextime/usage-record/v1", b"another deployment"):
        assert event_hash(identity, key) == keyed_hash(b"event\x00" + identity, key)
        assert event_hash(identity, key) == event_hash(identity, key)  # stable across calls
    assert event_hash(identity, b"a") != event_hash(identity, b"b")
    assert len(event_hash(identity, b"a")) == 32

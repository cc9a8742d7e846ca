"""The demo generator: deterministic, complete, and its ground truth agrees with its own files.

The files are read back here by a small reference reader that follows the counting rules of the
format notes (skip re-emits, deltas from last_token_usage, drop estimates, skip inherited history),
written independently of the generator, so a generator bug cannot hide behind its own bookkeeping.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import zstandard

from collector.demo import ERAS, MARKER_NAME, Truth, generate, is_demo_home

KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    home = tmp_path_factory.mktemp("demo") / "codex-home"
    return home, generate(home)


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def lines(data: bytes) -> list[dict]:
    """Every line that parses as a JSON object; torn, blank and non-UTF-8 lines are skipped."""
    out = []
    for raw in data.split(b"\n"):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def rollouts(home: Path) -> list[Path]:
    return sorted(
        p
        for p in [*home.glob("sessions/**/rollout-*"), *home.glob("archived_sessions/rollout-*")]
        if p.name.endswith((".jsonl", ".jsonl.zst"))
    )


def canonical(home: Path) -> dict[str, Path]:
    """One file per session id: plain beats its .zst sibling, active beats archived."""

    def rank(p: Path) -> tuple[int, int]:
        return ("archived_sessions" in p.parts, p.name.endswith(".zst"))

    best: dict[str, Path] = {}
    for path in rollouts(home):
        first = lines(read_bytes(path))[0]
        sid = first["payload"]["id"] if "payload" in first else first["id"]
        if sid not in best or rank(path) < rank(best[sid]):
            best[sid] = path
    return best


def vec(usage: dict | None) -> tuple[int, ...]:
    usage = usage or {}
    return tuple(int(usage.get(k, 0)) for k in (*KEYS, "total_tokens"))


def parent_of(meta: dict) -> str | None:
    source = meta.get("source")
    if isinstance(source, dict):
        spawn = source.get("subagent")
        if isinstance(spawn, dict) and "thread_spawn" in spawn:
            return spawn["thread_spawn"]["parent_thread_id"]
    return meta.get("forked_from_id")


def token_rows(objs: list[dict]):
    """(line, model in force, total vector, last vector) for every token_count with info."""
    model = "unknown"
    for obj in objs:
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            continue
        if obj.get("type") == "turn_context":
            model = payload.get("model") or model
        if obj.get("type") == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if info:
                yield obj, model, vec(info["total_token_usage"]), vec(info["last_token_usage"])


def reference_counts(home: Path) -> dict[str, list[tuple[int, str, tuple[int, ...]]]]:
    """Session id -> counted responses (ts ms, model, input/cached/output/reasoning)."""
    files = canonical(home)
    parsed = {sid: lines(read_bytes(p)) for sid, p in files.items()}
    counted: dict[str, list[tuple[int, str, tuple[int, ...]]]] = {}
    for sid, objs in parsed.items():
        meta = objs[0].get("payload", {})
        parent = parent_of(meta) if "payload" in objs[0] else None
        inherited = {t for _, _, t, _ in token_rows(parsed[parent])} if parent in parsed else set()
        prev: tuple[int, ...] | None = None
        in_prefix = bool(inherited)
        rows = []
        for obj, model, total, last in token_rows(objs):
            if in_prefix and total in inherited:
                prev = total
                continue
            in_prefix = False
            if total == prev:
                continue
            delta = (
                last
                if any(last)
                else tuple(a - b for a, b in zip(total, prev or total, strict=True))
            )
            prev = total
            if not any(delta[:4]):
                continue
            ts = int(datetime.fromisoformat(obj["timestamp"]).timestamp() * 1000)
            rows.append((ts, model, delta[:4]))
        counted[sid] = rows
    return counted


def by_day(rows: dict[str, list[tuple[int, str, tuple[int, ...]]]]) -> dict:
    days: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    for session_rows in rows.values():
        for ts, model, delta in session_rows:
            sums = days[time.strftime("%Y-%m-%d", time.gmtime(ts // 1000))][model]
            for i in range(4):
                sums[i] += delta[i]
    return {
        d: {
            m: dict(zip(("input", "cached", "output", "reasoning"), v, strict=True))
            for m, v in ms.items()
        }
        for d, ms in days.items()
    }


def test_deterministic_for_a_seed(tmp_path: Path, small: tuple[Path, Truth]) -> None:
    home, truth = small
    again = generate(tmp_path / "again")
    ours = {p.relative_to(home): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    theirs = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in again_files(tmp_path)}
    assert ours == theirs
    assert again.to_json() == truth.to_json()
    other = generate(tmp_path / "other", seed=8)
    assert other.totals() != truth.totals()


def again_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "again").rglob("*") if p.is_file()]


def test_refuses_a_folder_with_content_but_replaces_a_demo(tmp_path: Path) -> None:
    (tmp_path / "real" / "sessions").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        generate(tmp_path / "real")
    assert (tmp_path / "real" / "sessions").is_dir()
    first = generate(tmp_path / "demo", seed=1, days=10)
    second = generate(tmp_path / "demo", seed=1, days=10)
    assert first.to_json() == second.to_json()


def test_compression_changes_storage_not_sessions(tmp_path: Path) -> None:
    packed = generate(tmp_path / "packed", days=20)
    plain = generate(tmp_path / "plain", days=20, compress_older_than_days=10_000)
    assert packed.stats["zst"] and not plain.stats["zst"]
    assert packed.responses == plain.responses


def test_marker_and_layout(small: tuple[Path, Truth]) -> None:
    home, truth = small
    marker = orjson.loads((home / MARKER_NAME).read_bytes())
    assert marker == {"demo": True, "generator": "codextime demo", "seed": 7}
    assert is_demo_home(home)
    files = rollouts(home)
    names = [p.name for p in files]
    zst = [p for p in files if p.name.endswith(".zst")]
    assert zst, "old sessions are compressed"
    assert any(p.with_name(p.name[: -len(".zst")]).exists() for p in zst), "a plain+zst sibling"
    archived = [p for p in files if "archived_sessions" in p.parts]
    assert archived
    assert any(names.count(p.name) == 2 for p in archived), "a copy both active and archived"
    for p in files:
        if "sessions" in p.parts and "archived_sessions" not in p.parts:
            y, m, d = p.parts[-4:-1]
            assert p.name.startswith(f"rollout-{y}-{m}-{d}T")
    assert truth.stats["legacy_files"] and truth.stats["forks"] and truth.stats["subagents"]
    assert truth.stats["guardians"] and truth.stats["resets"] and truth.stats["resumed"]


def test_every_era_is_present(small: tuple[Path, Truth]) -> None:
    home, _ = small
    versions = set()
    shapes = set()
    for path in rollouts(home):
        objs = lines(read_bytes(path))
        first = objs[0]
        if "payload" not in first:
            shapes.add("legacy")
            continue
        versions.add(first["payload"]["cli_version"])
        shapes.update(k for k in ("ordinal",) if k in first)
        for obj in objs:
            p = obj.get("payload", {})
            if isinstance(p, dict) and p.get("type") == "token_count":
                limits = p.get("rate_limits") or {}
                shapes.update(k for k in ("limit_id", "plan_type") if k in limits)
                prim = limits.get("primary") or {}
                shapes.update(k for k in ("resets_at", "resets_in_seconds") if k in prim)
            shapes.update(
                t for t in ("token_usage_record", "world_state", "compacted") if obj["type"] == t
            )
    for era in ERAS[1:]:
        assert versions & set(era.versions), era.key
    assert shapes >= {
        "legacy",
        "ordinal",
        "limit_id",
        "plan_type",
        "resets_at",
        "resets_in_seconds",
        "token_usage_record",
        "world_state",
        "compacted",
    }


def test_noise_torn_tail_and_private_fields(small: tuple[Path, Truth]) -> None:
    home, _ = small
    raw = [read_bytes(p) for p in rollouts(home)]
    bad_utf8 = 0
    invalid = 0
    for data in raw:
        for line in data.split(b"\n")[:-1]:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad_utf8 += 1
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                invalid += 1
    assert bad_utf8 >= 1 and invalid >= 2
    stamped = [p for p in rollouts(home) if "timestamp" in lines(read_bytes(p))[-1]]
    newest = max(stamped, key=lambda p: lines(read_bytes(p))[-1]["timestamp"])
    tail = newest.read_bytes()
    assert not tail.endswith(b"\n") and b"token_count" in tail.rsplit(b"\n", 1)[1]
    text = b"".join(raw)
    assert b"/work/" not in text and b"/root/" not in text
    assert b'"encrypted_content":"gAAAAA' in text


def test_truth_agrees_with_the_files(small: tuple[Path, Truth]) -> None:
    home, truth = small
    counted = reference_counts(home)
    per_session: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in truth.responses:
        s = per_session[r.session]
        for i, v in enumerate((r.input, r.cached, r.output, r.reasoning)):
            s[i] += v
    for sid, rows in counted.items():
        sums = [sum(d[i] for _, _, d in rows) for i in range(4)]
        assert sums == per_session.get(sid, [0, 0, 0, 0]), sid
    assert set(per_session) <= set(counted)
    assert by_day(counted) == truth.by_day_utc()
    assert all(r.cached <= r.input and r.reasoning <= r.output for r in truth.responses)


def test_final_totals_match_truth_for_root_files(small: tuple[Path, Truth]) -> None:
    """Where no counter reset happened, a root file's last total is the sum of its responses."""
    home, truth = small
    sums: dict[str, tuple[int, ...]] = {}
    for r in truth.responses:
        a = sums.get(r.session, (0, 0, 0, 0, 0))
        sums[r.session] = (
            a[0] + r.input,
            a[1] + r.cached,
            a[2] + r.output,
            a[3] + r.reasoning,
            a[4] + r.input + r.output,
        )
    checked = 0
    for sid, path in canonical(home).items():
        objs = lines(read_bytes(path))
        if "payload" not in objs[0] or parent_of(objs[0]["payload"]):
            continue
        totals = [t for _, _, t, _ in token_rows(objs)]
        if not totals or any(t[:4] == (0, 0, 0, 0) for t in totals):
            continue
        assert totals[-1] == sums[sid], path
        checked += 1
    assert checked > 10


def test_subagent_start_ordinal_marks_the_inherited_lines(small: tuple[Path, Truth]) -> None:
    home, _ = small
    seen = 0
    for path in rollouts(home):
        objs = lines(read_bytes(path))
        start = objs[0].get("payload", {}).get("subagent_history_start_ordinal")
        if start is None:
            continue
        seen += 1
        replay = [o for o in objs if o["ordinal"] < start]
        own = [o for o in objs if o["ordinal"] >= start]
        assert len({o["timestamp"][:19] for o in replay[1:]}) == 1, "replay sits in one second"
        assert own and own[0]["timestamp"] > replay[-1]["timestamp"]
    assert seen


def test_token_count_share_of_a_bigger_corpus(tmp_path: Path) -> None:
    home = tmp_path / "home"
    truth = generate(home, seed=3, days=30, target_bytes=20_000_000)
    total = 0
    token = 0
    for path in rollouts(home):
        data = read_bytes(path)
        total += len(data)
        for line in data.split(b"\n"):
            if b'"type":"token_count"' in line:
                token += len(line) + 1
    assert 18_000_000 < total < 26_000_000
    assert 0.05 <= token / total <= 0.15
    assert truth.stats["jsonl_bytes"] == total
    end = datetime(2026, 11, 20, 18, 0, tzinfo=UTC).timestamp() * 1000
    assert max(r.ts_ms for r in truth.responses) < end

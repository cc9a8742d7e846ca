"""The demo generator: deterministic, complete, and its ground truth agrees with its own files.

The files are read back here by a small reference reader that follows the counting rules of the
format notes (skip re-emits, deltas from last_token_usage, drop estimates, skip inherited history),
written independently of the generator, so a generator bug cannot hide behind its own bookkeeping.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import zstandard

from collector.demo import (
    ERAS,
    MARKER_NAME,
    TIER_SPELLINGS,
    TOKEN_KEYS,
    NotADemoHome,
    Truth,
    generate,
    is_demo_home,
)

KEYS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    home = tmp_path_factory.mktemp("demo") / "codex-home"
    return home, generate(home)


def zst_frames(data: bytes) -> list[bytes]:
    """The decompressed content of every frame of a zstd file, in order."""
    frames = []
    while data:
        obj = zstandard.ZstdDecompressor().decompressobj()
        frames.append(obj.decompress(data))
        data = obj.unused_data
    return frames


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        return b"".join(zst_frames(data))
    return data


def parse_line(raw: bytes) -> dict | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def lines(data: bytes) -> list[dict]:
    """Every line that parses as a JSON object; torn, blank and non-UTF-8 lines are skipped."""
    return [obj for obj in map(parse_line, data.split(b"\n")) if obj is not None]


def located_lines(data: bytes) -> list[tuple[int, dict]]:
    """(byte offset, object) of every line that parses as a JSON object."""
    out, at = [], 0
    for raw in data.split(b"\n"):
        obj = parse_line(raw)
        if obj is not None:
            out.append((at, obj))
        at += len(raw) + 1
    return out


def rollouts(home: Path) -> list[Path]:
    return sorted(
        p
        for p in [*home.glob("sessions/**/rollout-*"), *home.glob("archived_sessions/rollout-*")]
        if p.name.endswith((".jsonl", ".jsonl.zst"))
    )


def canonical(home: Path) -> dict[str, Path]:
    """One file per name (R1): plain beats its .zst sibling, active beats archived."""

    def rank(p: Path) -> tuple[int, int]:
        return ("archived_sessions" in p.parts, p.name.endswith(".zst"))

    best: dict[str, Path] = {}
    for path in rollouts(home):
        name = path.name.removesuffix(".zst")
        if name not in best or rank(path) < rank(best[name]):
            best[name] = path
    return best


def rollout_id(name: str) -> str:
    """The rollout id a file name carries: the uuid after ``_``, else the thread uuid."""
    stem = name.removesuffix(".zst").removesuffix(".jsonl")
    return stem.rsplit("_", 1)[1] if "_" in stem else stem[-36:]


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


def is_token_count(obj: dict) -> bool:
    payload = obj.get("payload")
    return (
        obj.get("type") == "event_msg"
        and isinstance(payload, dict)
        and payload.get("type") == "token_count"
        and bool(payload.get("info"))
    )


def token_rows(objs: list[dict]):
    """(line, model in force, total vector, last vector) for every token_count with info."""
    model = "unknown"
    for obj in objs:
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            continue
        if obj.get("type") == "turn_context":
            model = payload.get("model") or model
        if is_token_count(obj):
            info = payload["info"]
            yield obj, model, vec(info["total_token_usage"]), vec(info["last_token_usage"])


def v2_own_start(objs: list[dict]) -> int:
    """Index of a V2 subagent's first own line (R18), 0 for any other file."""
    meta = objs[0].get("payload", {})
    if meta.get("thread_source") != "subagent" or "ordinal" not in objs[0]:
        return 0
    start = meta.get("subagent_history_start_ordinal")
    if start is not None:
        return next(i for i, o in enumerate(objs) if o.get("ordinal", -1) >= start)
    metas = [i for i, o in enumerate(objs) if o.get("type") == "session_meta"]
    if len(metas) < 2:
        return 0
    return next(
        (
            i
            for i, o in enumerate(objs)
            if i > metas[1]
            and o.get("type") == "inter_agent_communication_metadata"
            and o["payload"].get("trigger_turn") is True
        ),
        0,  # no trigger: a pre-V2 copy, told by its parent's totals (R10)
    )


class Reference:
    """Counts a home by the format notes' rules (R1-R18), independently of the generator."""

    def __init__(self, home: Path) -> None:
        self.files = canonical(home)
        self.data = {name: read_bytes(p) for name, p in self.files.items()}
        self.by_rollout = {rollout_id(n): n for n in self.data}
        self.objs = {n: lines(d) for n, d in self.data.items()}
        self.by_thread: dict[str, list[str]] = defaultdict(list)
        for name, objs in self.objs.items():
            if "payload" in objs[0]:
                self.by_thread[objs[0]["payload"]["id"]].append(name)
        self.rows: dict[tuple, tuple] = {}  # R11: (ts, total, last) -> counted row
        self.records: dict[tuple[str, str], tuple] = {}  # R13: (thread, response) -> row

    def seed(self, name: str) -> tuple[int, ...] | None:
        """The total in force at the end of the retained prefix of a paginated file (R12)."""
        base = self.objs[name][0].get("payload", {}).get("history_base")
        if not base:
            return None
        base_name = self.by_rollout[base["thread_id"]]
        before = [
            o for at, o in located_lines(self.data[base_name]) if at < base["end_byte_offset"]
        ]
        totals = [t for _, _, t, _ in token_rows(before)]
        return totals[-1] if totals else self.seed(base_name)

    def inherited_totals(self, name: str) -> set[tuple[int, ...]]:
        """Totals of a legacy-mode child's parent (fork rule 2), for files without boundaries."""
        meta = self.objs[name][0].get("payload", {})
        parents = self.by_thread.get(parent_of(meta) or "", [])
        return {t for p in parents for _, _, t, _ in token_rows(self.objs[p])}

    def count(self) -> list[tuple[int, str, str, tuple[int, ...]]]:
        """(ts ms, model, tier, counts in TOKEN_KEYS order) of every response counted."""
        for name, objs in self.objs.items():
            if "payload" in objs[0]:
                self.count_file(objs, self.seed(name), self.inherited_totals(name))
        return [*self.rows.values(), *self.records.values()]

    def count_file(self, objs: list[dict], seed, inherited: set) -> None:
        own_id = objs[0]["payload"]["id"]
        start = v2_own_start(objs)
        legacy_prefix = bool(inherited) and seed is None and start == 0
        prev = seed
        model, tier = "unknown", "unknown"
        pending: dict | None = None  # the last own record, not yet accounted for (R13)
        for i, obj in enumerate(objs):
            payload, kind = obj.get("payload"), obj.get("type")
            if not isinstance(payload, dict):
                continue
            if kind == "turn_context":
                model = payload.get("model") or model
            elif payload.get("type") == "thread_settings_applied":
                spelling = (payload.get("thread_settings") or {}).get("service_tier")
                if spelling is not None:
                    tier = TIER_SPELLINGS.get(spelling, "unknown")
            elif kind == "token_usage_record" and i >= start:
                self.count_record(own_id, pending)
                pending = None
                if payload.get("thread_id", own_id) == own_id:
                    pending = {**payload, "_row": (stamp(obj["timestamp"]), model, tier)}
            elif is_token_count(obj):
                total = vec(payload["info"]["total_token_usage"])
                last = vec(payload["info"]["last_token_usage"])
                if i < start or legacy_prefix and total in inherited:
                    prev = total
                    continue
                legacy_prefix = False
                if total == prev:
                    continue
                if pending is not None:  # the first advancing row after a record decides
                    if (
                        vec(pending["usage"]) != last
                        and vec(pending["thread_token_usage"]) != total
                    ):
                        self.count_record(own_id, pending)
                    pending = None
                delta = (
                    last
                    if any(last)
                    else tuple(a - b for a, b in zip(total, prev or total, strict=True))
                )
                prev = total
                if any(delta[:5]):
                    key = (obj["timestamp"], total, last)
                    self.rows.setdefault(key, (stamp(obj["timestamp"]), model, tier, delta[:5]))
        self.count_record(own_id, pending)

    def count_record(self, thread_id: str, record: dict | None) -> None:
        """Count a record no token_count accounted for, once per (thread, response)."""
        if record is not None:
            row = (*record["_row"], vec(record["usage"])[:5])
            self.records.setdefault((thread_id, record["response_id"]), row)


def stamp(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def sums_by_day(rows, group: int) -> dict:
    """UTC day -> model (group 1) or tier (group 2) -> sums in TOKEN_KEYS order."""
    days: dict = defaultdict(lambda: defaultdict(lambda: [0] * len(TOKEN_KEYS)))
    for row in rows:
        sums = days[time.strftime("%Y-%m-%d", time.gmtime(row[0] // 1000))][row[group]]
        for i, value in enumerate(row[3]):
            sums[i] += value
    return {
        d: {g: dict(zip(TOKEN_KEYS, v, strict=True)) for g, v in sorted(gs.items())}
        for d, gs in sorted(days.items())
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
    with pytest.raises(NotADemoHome):
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
    counted = Reference(home).count()
    assert sums_by_day(counted, 1) == truth.by_day_utc()
    assert sums_by_day(counted, 2) == truth.tiers_by_day_utc()
    assert len(counted) == len(truth.responses)
    assert all(
        r.cached + r.cache_write <= r.input and r.reasoning <= r.output for r in truth.responses
    )


def test_final_totals_match_truth_for_root_files(small: tuple[Path, Truth]) -> None:
    """Where no counter reset or remote compaction happened, a root thread's one file ends on a
    total that is the sum of its responses."""
    home, truth = small
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * len(TOKEN_KEYS))
    for r in truth.responses:
        for i, value in enumerate(r.tokens()):
            sums[r.session][i] += value
    ref = Reference(home)
    checked = 0
    for name, objs in ref.objs.items():
        meta = objs[0].get("payload", {})
        if "payload" not in objs[0] or parent_of(meta) or len(ref.by_thread[meta["id"]]) > 1:
            continue
        totals = [t for _, _, t, _ in token_rows(objs)]
        remote = any("compaction_response_id" in (o.get("payload") or {}) for o in objs)
        if not totals or remote or any(not any(t[:5]) for t in totals):
            continue
        assert list(totals[-1][:5]) == sums[meta["id"]], name
        checked += 1
    assert checked > 5


def test_v2_subagents_copy_their_parent_at_the_meta_line_time(small: tuple[Path, Truth]) -> None:
    """Copied lines carry the child's meta line stamp (seconds after its payload timestamp), the
    copied parent meta comes second, and the boundary (start ordinal or trigger) follows them."""
    home, _ = small
    with_start = without = nested = 0
    for path in rollouts(home):
        objs = lines(read_bytes(path))
        meta = objs[0].get("payload", {})
        if meta.get("thread_source") != "subagent" or "ordinal" not in objs[0]:
            continue
        own = v2_own_start(objs)
        if not own:  # a pre-V2 worker (cli < 0.151)
            continue
        assert objs[1]["type"] == "session_meta" and objs[1]["payload"]["id"] == parent_of(meta)
        assert {o["timestamp"] for o in objs[:own]} == {objs[0]["timestamp"]}
        assert 2 <= stamp(objs[0]["timestamp"]) / 1000 - stamp(meta["timestamp"]) / 1000 <= 7
        marker = objs[own]
        assert marker["type"] == "inter_agent_communication_metadata"
        assert (
            marker["payload"] == {"trigger_turn": True}
            and marker["timestamp"] > objs[0]["timestamp"]
        )
        copied = [o for o in objs[2:own] if o.get("type") == "token_usage_record"]
        assert all(o["payload"]["thread_id"] != meta["id"] for o in copied)
        with_start += "subagent_history_start_ordinal" in meta
        without += "subagent_history_start_ordinal" not in meta
        nested += meta["source"]["subagent"]["thread_spawn"]["depth"] == 2
    assert with_start and without and nested


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


def test_revisions_reference_their_base_at_a_line_boundary(small: tuple[Path, Truth]) -> None:
    """A revision's history_base cuts its base at a line start; the base's total in force there
    is the revision's first (seeded) total; the base keeps its reverted lines after the cut."""
    home, _ = small
    ref = Reference(home)
    revisions = chained = 0
    for name, objs in ref.objs.items():
        base = objs[0].get("payload", {}).get("history_base")
        if not base:
            continue
        base_name = ref.by_rollout[base["thread_id"]]
        data = ref.data[base_name]
        cut = base["end_byte_offset"]
        assert cut == len(data) or data[cut - 1 : cut] == b"\n", name
        assert objs[0]["ordinal"] == base["end_ordinal_exclusive"]
        after = located_lines(data[cut:])
        if after:
            assert after[0][1]["ordinal"] == base["end_ordinal_exclusive"]
        first = next(t for _, _, t, _ in token_rows(objs))
        assert first == ref.seed(name)
        if "_" in name:  # thread/revert: same thread, reverted lines left in the base
            assert objs[0]["payload"]["id"] == ref.objs[base_name][0]["payload"]["id"]
            assert any(is_token_count(o) for _, o in after)
            revisions += 1
            chained += "_" in base_name
        else:  # a paginated fork: a new thread that copies nothing
            assert objs[0]["payload"]["forked_from_id"] == ref.objs[base_name][0]["payload"]["id"]
            assert sum(o.get("type") == "session_meta" for o in objs) == 1
    assert revisions and chained


def test_2026_shapes_are_written(small: tuple[Path, Truth]) -> None:
    """Ordinal reuse, both compactions, tiers, cache writes, a reordered token_count, sidecars."""
    home, truth = small
    shapes: set[str] = set()
    for path in rollouts(home):
        objs = lines(read_bytes(path))
        ordinals = [o["ordinal"] for o in objs if "ordinal" in o]
        if any(a == b for a, b in zip(ordinals, ordinals[1:], strict=False)):
            shapes.add("reused ordinal")
        for i, o in enumerate(objs):
            kind, payload = o.get("type"), o.get("payload")
            if kind == "compacted" and "compaction_response_id" in payload:
                around = [x.get("type") for x in objs[i - 1 : i + 2]]
                shapes.add("remote" if "token_usage_record" in around[::2] else "local")
            if kind == "token_usage_record" and objs[i + 1 : i + 2] and is_token_count(objs[i + 1]):
                shapes.add("record before token_count")
        data = read_bytes(path)
        if b'{"type":"event_msg","timestamp"' in data and data.startswith(b'{"timestamp"'):
            shapes.add("reordered keys")
    assert shapes >= {
        "reused ordinal",
        "remote",
        "local",
        "record before token_count",
        "reordered keys",
    }
    assert {r.tier for r in truth.responses} == {"priority", "standard", "flex", "unknown"}
    assert any(r.cache_write for r in truth.responses)
    assert {"gpt-reserve", "codex-auto-review"} <= {r.model for r in truth.responses}
    sidecars = list(home.glob("sessions/**/*.timers.json"))
    assert sidecars and b'"prompt"' in sidecars[0].read_bytes()
    assert list(home.glob("sessions/**/*.timers.json.tmp-*"))


def test_multi_frame_zst_round_trips(small: tuple[Path, Truth]) -> None:
    """Some .zst files hold several frames, each ending on a line end (R17)."""
    home, truth = small
    multi = 0
    for path in home.rglob("rollout-*.jsonl.zst"):
        frames = zst_frames(path.read_bytes())
        if len(frames) > 1:
            multi += 1
            assert all(f.endswith(b"\n") for f in frames)
            first_frame_only = (
                zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
            )
            assert len(first_frame_only) < len(b"".join(frames))
    assert multi == truth.stats["zst_multi_frame"] > 0


def test_demo_command_refuses_an_unreadable_marker_in_one_line(tmp_path: Path) -> None:
    """A folder whose marker does not parse is not a demo: one error line, nothing touched."""
    from typer.testing import CliRunner

    from collector.cli import app

    out = tmp_path / "mine"
    out.mkdir()
    (out / MARKER_NAME).write_text("{not json")
    (out / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "not touching it" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def report_by_day(home: Path) -> dict:
    """``codextime report daily --json`` in UTC over ``home``."""
    from typer.testing import CliRunner

    from collector.cli import app

    args = ["report", "daily", "--json", "--timezone", "UTC", "--codex-home", str(home)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def mismatches(doc: dict, truth: Truth) -> list[str]:
    """Every day and model, and day and tier, the report gets wrong (tiers are input + output)."""
    keys = [*TOKEN_KEYS, "responses"]
    want = truth.by_day_utc()
    for models in want.values():
        for sums in models.values():
            sums["responses"] = 0
    for r in truth.responses:
        want[time.strftime("%Y-%m-%d", time.gmtime(r.ts_ms // 1000))][r.model]["responses"] += 1
    want_tiers = {
        day: {tier: s["input"] + s["output"] for tier, s in tiers.items()}
        for day, tiers in truth.tiers_by_day_utc().items()
    }
    out = []
    for row in doc["days"]:
        day = row["date"]
        for model in sorted(set(want.get(day, {})) | set(row["models"])):
            a = row["models"].get(model, {})
            b = want.get(day, {}).get(model, {})
            diff = {k: a.get(k, 0) - b.get(k, 0) for k in keys if a.get(k, 0) != b.get(k, 0)}
            if diff:
                out.append(f"{day} {model}: {diff}")
        if row.get("tiers", want_tiers.get(day)) != want_tiers.get(day):
            out.append(f"{day} tiers: {row['tiers']} != {want_tiers.get(day)}")
    out += [f"{day}: missing" for day in sorted(set(want) - {r["date"] for r in doc["days"]})]
    return out


@pytest.mark.parametrize(
    "eras",
    [
        ("0.47", "0.98", "0.118"),
        ("0.144", "0.145", "0.146", "0.148"),
        ("0.151", "0.153", "0.159"),
        tuple(e.key for e in ERAS),
    ],
    ids=["2025", "2026-early", "2026-late", "all"],
)
def test_scan_reproduces_the_truth(tmp_path: Path, eras: tuple[str, ...]) -> None:
    """The collector's report equals the truth on every UTC day, model and tier."""
    home = tmp_path / "home"
    truth = generate(home, seed=11, days=20, target_bytes=1_500_000, eras=eras)
    assert {e.key for e in ERAS if e.key in eras} == set(eras)
    assert mismatches(report_by_day(home), truth) == []


# -- what the demo shows: use as people have it ---------------------------------------------------


def report_of(home: Path, period: str, zone: str) -> dict:
    """``codextime report PERIOD --json`` over ``home``, days cut in ``zone``."""
    from typer.testing import CliRunner

    from collector.cli import app

    args = ["report", period, "--json", "--timezone", zone, "--codex-home", str(home)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.fixture(scope="module")
def shown(small: tuple[Path, Truth]) -> dict[str, dict]:
    """The demo's reports in the zone its logs were written in (where its weekends are)."""
    from collector.demo.corpus import OFFSETS

    home, truth = small
    zone = dict(OFFSETS)[truth.utc_offset_minutes]
    return {period: report_of(home, period, zone) for period in ("daily", "monthly", "session")}


def test_no_day_dwarfs_the_others(shown: dict[str, dict]) -> None:
    """A timeline of the demo shows every active day: the busiest is a few times a usual one."""
    totals = sorted(day["total"] for day in shown["daily"]["days"] if day["total"])
    assert len(totals) >= 40  # of 60 days: most days have some use
    assert totals[-1] <= 6 * statistics.median(totals)


def test_no_session_flattens_the_rest(shown: dict[str, dict]) -> None:
    sessions = [s["total"] for s in shown["session"]["sessions"]]
    assert len(sessions) >= 80
    assert max(sessions) <= 0.08 * sum(sessions)


def test_weekdays_are_busier_than_weekends(shown: dict[str, dict]) -> None:
    days = {date.fromisoformat(d["date"]): d["total"] for d in shown["daily"]["days"]}
    first, last = min(days), max(days)
    span = [first + timedelta(n) for n in range((last - first).days + 1)]
    weekdays = [days.get(d, 0) for d in span if d.weekday() < 5]
    weekends = [days.get(d, 0) for d in span if d.weekday() >= 5]
    assert statistics.mean(weekdays) >= 1.5 * statistics.mean(weekends)


def test_models_change_over_time(shown: dict[str, dict]) -> None:
    """Each month is led by its own models: the mix moves on, as Codex's defaults did."""
    months = shown["monthly"]["months"]
    leaders = [max(m["models"], key=lambda name: m["models"][name]["total"]) for m in months]
    assert len(months) >= 3 and len(set(leaders)) >= 3
    assert len(shown["monthly"]["totals"]["models"]) >= 10

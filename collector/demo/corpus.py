"""A whole demo home: families of threads laid over the date range, each file placed (active,
archived, both, renamed), compressed or not, with noise and the files a home has besides rollouts;
:func:`generate` is the entry point.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from collector.demo.eras import ERAS, Cli146, Cli151, Era, Legacy
from collector.demo.filler import Filler
from collector.demo.lines import RAW, iso, uuid4, uuid7
from collector.demo.marker import GENERATOR, MARKER_NAME, NotADemoHome, is_demo_home
from collector.demo.truth import Truth
from collector.demo.writer import Cli034, Ctx, Mark
from collector.zst import zstd

DEFAULT_END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
#: Size of the default demo set per day of history: two to three sessions a weekday, as a person
#: who codes with Codex most days has; 60 days (every era and feature) are written in a second.
BYTES_PER_DAY = 400_000
#: The default set is never smaller than this (every era and feature fit, however few the days),
#: nor larger than that (a longer history is sparser instead).
MIN_DEFAULT_BYTES = 4_000_000
MAX_DEFAULT_BYTES = 48_000_000
#: The JSONL bytes of a typical family of threads (a root with its resumes, subagents, reviews,
#: forks and revisions), measured over all eras: what a day's budget is divided by.
MEAN_FAMILY_BYTES = 230_000
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
GUARDIAN_MODEL = "codex-auto-review"
#: Bounds of one session: turns, the mean responses of its turns, and the responses of one turn.
MAX_TURNS = 6
MAX_MEAN_RESPONSES = 10.0
MAX_TURN_RESPONSES = 16
#: A thread stops taking turns past this many responses: its context, read again by every
#: response, makes a session's tokens grow with the square of its length.
MAX_SESSION_RESPONSES = 30
#: Sessions on a weekend day, against a weekday: people code less then.
WEEKEND_SHARE = 0.25


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
        self.zstd = zstd.ZstdCompressor(level=3)
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
        # Bounded, as people's sessions are: a session of hundreds of responses at a full context
        # would outweigh weeks of the rest and flatten every timeline drawn from the demo.
        turns = max(1, min(MAX_TURNS, int(rng.lognormvariate(0.6, 0.4) * size) + 1))
        mean = min(MAX_MEAN_RESPONSES, max(1.5, rng.lognormvariate(1.9, 0.3) * size))
        plan = Plan(era, turns=turns, responses=mean)
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
        return max(1, min(MAX_TURN_RESPONSES, int(self.rng.expovariate(1 / mean)) + 1))

    def play(self, w: Cli034, plan: Plan, turns: int, limit_ms: int, *, kids: bool) -> None:
        """Run ``turns`` turns (fewer if the clock reaches ``limit_ms``)."""
        rng = self.rng
        reset_turn = rng.randrange(turns) if plan.reset else -1
        compact_turn = rng.randrange(turns) if plan.compaction else -1
        change_turn = rng.randrange(1, turns) if plan.model_change and turns > 1 else -1
        spawn_turns = {rng.randrange(turns) for _ in range(plan.subagents)} if kids else set()
        guard_turns = {rng.randrange(turns) for _ in range(plan.guardians)} if kids else set()
        for t in range(turns):
            if w.now > limit_ms or w.responses >= MAX_SESSION_RESPONSES:
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
        # A first revision takes two turns at least: a turn's end before its last is where a
        # revision of it can cut.
        self.play(child, plan, self.rng.randint(1 + (base.kind == "root"), 3), limit, kids=False)
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
            return self.frame(data)
        cuts = {0, len(data)}
        for _ in range(self.place.randint(1, 3)):
            end = data.find(b"\n", self.place.randrange(len(data) // 8, len(data) - 1))
            cuts.add(len(data) if end < 0 else end + 1)
        bounds = sorted(cuts)
        if len(bounds) > 2:
            self.stats["zst_multi_frame"] += 1
        return b"".join(self.frame(data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))

    def frame(self, data: bytes) -> bytes:
        """``data`` as one whole zstd frame that declares its size, as Codex writes them."""
        return self.zstd.compress(data, zstd.ZstdCompressor.FLUSH_FRAME)

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
    if target_bytes is None:
        target_bytes = min(max(days * BYTES_PER_DAY, MIN_DEFAULT_BYTES), MAX_DEFAULT_BYTES)
    out.mkdir(parents=True, exist_ok=True)

    anchors = _anchors(corpus)
    # Sessions per day follow the remaining budget over a fixed size of a typical family, not a
    # running mean: legacy families are small, and a running mean would crowd the first days
    # and starve the last.
    for day in range(days):
        day_ms = start_ms + day * DAY_MS
        starts = [(ms, kind, era) for ms, kind, era in anchors if day_ms <= ms < day_ms + DAY_MS]
        remaining = target_bytes - corpus.paced_bytes
        if remaining > 0:
            busy = rng.uniform(0.6, 1.4) * (WEEKEND_SHARE if _weekend(ctx, day_ms) else 1.0)
            expected = remaining / (days - day) / MEAN_FAMILY_BYTES * busy
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
            while _weekend(corpus.ctx, ms) and ms + DAY_MS < hi:  # on a working day
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

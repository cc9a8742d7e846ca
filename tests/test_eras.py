"""One small file per format era of the doc (section 2), each counted by hand.

Each builder returns the lines of one rollout and the expected (input, cached, output, reasoning)
sums and models. The last test runs a whole CODEX_HOME holding one file of every era.
"""

from __future__ import annotations

import pytest

from store.fields import MODEL, SESSION
from tests.rollout import (
    RATE_LIMITS_047,
    RATE_LIMITS_050,
    RATE_LIMITS_050_EARLY,
    RATE_LIMITS_2026,
    Thread,
    at,
    compacted,
    event,
    feed_all,
    legacy_lines,
    line,
    message,
    meta,
    meta_034,
    meta_2026,
    parts,
    scan_home,
    session_of,
    session_path,
    summed,
    token_event,
    token_usage_record,
    turn,
    turn_2026,
    usage,
    write,
)

ID_034 = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"  # UUID v4 in the 0.34 era
ID_047 = "019a152d-35a0-72a0-91db-8ebe37fac69e"
ID_050 = "019a2f11-0000-7000-8000-000000000050"
ID_098 = "019c4a10-0000-7000-8000-000000000098"
ID_118 = "019d6d67-0000-7000-8000-000000000118"
ID_144 = "019f0000-0000-7000-8000-000000000144"
ID_146 = "01a00000-0000-7000-8000-000000000146"
ID_151 = "01a10000-0000-7000-8000-000000000151"
ID_153 = "01a20000-0000-7000-8000-000000000153"


def era_legacy():
    return legacy_lines(), None


def era_034():
    """0.34: envelope, meta without source, no turn_context, no rate_limits, no re-emits."""
    t = Thread()  # rows carry no rate_limits key at all
    lines = [
        meta_034(at("2025-09-20 08:00:00"), ID_034),
        message(at("2025-09-20 08:00:01"), "hello"),
        t.respond(at("2025-09-20 08:00:09"), 3000, 0, 200, 128),
        message(at("2025-09-20 08:01:00"), "again"),
        t.respond(at("2025-09-20 08:01:09"), 3500, 2900, 150, 64),
        t.respond(at("2025-09-20 08:02:09"), 4100, 3400, 300, 256),
    ]
    return lines, t


def era_047():
    """0.47: turn_context with model; rate_limits with resets_in_seconds; every row re-emitted."""
    t = Thread(RATE_LIMITS_047)
    lines = [
        meta(at("2025-10-24 07:44:35.755"), ID_047),
        turn(
            at("2025-10-24 07:44:40"), "gpt-5-codex", approval_policy="on-request", summary="auto"
        ),
        token_event(at("2025-10-24 07:44:40.5"), None, rate_limits=RATE_LIMITS_047),
        t.respond(at("2025-10-24 07:44:52"), 6714, 2944, 388, 320),  # the doc's real row
        t.reemit(at("2025-10-24 07:44:52.4")),
        turn(at("2025-10-24 07:45:30"), "gpt-5-codex"),
        t.respond(at("2025-10-24 07:45:41"), 7020, 6656, 211, 128),
        t.reemit(at("2025-10-24 07:45:41.3")),
    ]
    return lines, t


def era_050():
    """0.50+: resets_at replaces resets_in_seconds (and the earliest flat shape)."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-30 12:00:00"), ID_050, cli_version="0.50.0", source="cli"),
        turn(at("2025-10-30 12:00:01"), "gpt-5-codex"),
        t.respond(at("2025-10-30 12:00:20"), 12000, 0, 900, 700),
        t.reemit(at("2025-10-30 12:00:20.2")),
    ]
    t.rate_limits = RATE_LIMITS_050_EARLY
    lines += [
        t.reemit(at("2025-10-30 12:00:21")),
        t.respond(at("2025-10-30 12:01:20"), 13000, 11904, 400, 192),
        t.reemit(at("2025-10-30 12:01:20.2")),
    ]
    return lines, t


def era_098():
    """Feb 2026, 0.98: 2026 meta and turn_context; the model only in collaboration_mode."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta_2026(at("2026-02-10 09:00:00"), ID_098, "0.98.0"),
        turn_2026(at("2026-02-10 09:00:01"), model=None, settings_model="gpt-5.3-codex"),
        t.respond(at("2026-02-10 09:00:30"), 20000, 12000, 1500, 1000),
        t.reemit(at("2026-02-10 09:00:30.3")),
        turn_2026(at("2026-02-10 09:01:00"), model=None, settings_model="gpt-5.3-codex"),
        t.respond(at("2026-02-10 09:01:30"), 21500, 19968, 600, 300),
        t.reemit(at("2026-02-10 09:01:31")),
    ]
    return lines, t


def era_118():
    """Apr 2026, 0.118: task_started, info:null first row, 2026 rate_limits, task_complete."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(at("2026-04-08 14:02:46"), ID_118, "0.118.0"),
        event(at("2026-04-08 14:03:02"), "task_started", turn_id="u1", started_at=1775656982),
        turn_2026(at("2026-04-08 14:03:02.1"), "gpt-5.4"),
        token_event(at("2026-04-08 14:03:02.5"), None, rate_limits=RATE_LIMITS_2026),
        t.respond(at("2026-04-08 14:03:20"), 15000, 3000, 800, 512),
        t.reemit(at("2026-04-08 14:03:20.4")),
        event(at("2026-04-08 14:03:21"), "task_complete", turn_id="u1", last_agent_message="x"),
        event(at("2026-04-08 14:05:00"), "task_started", turn_id="u2", started_at=1775657100),
        turn_2026(at("2026-04-08 14:05:00.1"), "gpt-5.4"),
        t.respond(at("2026-04-08 14:05:30"), 16000, 14976, 300, 0),
        t.reemit(at("2026-04-08 14:05:30.2")),
        event(at("2026-04-08 14:05:31"), "task_complete", turn_id="u2", last_agent_message="y"),
    ]
    return lines, t


def era_144():
    """Jul 2026, 0.144: session_id (= id for a root), thread_source, history_mode."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(
            at("2026-07-14 08:00:00"),
            ID_144,
            "0.144.0",
            session_id=ID_144,
            thread_source="user",
            history_mode="default",
            context_window={"window_id": "w1"},
        ),
        event(at("2026-07-14 08:00:05"), "task_started", turn_id="u1", started_at=1783929605),
        turn_2026(at("2026-07-14 08:00:05.1"), "gpt-5.5"),
        token_event(at("2026-07-14 08:00:05.2"), None, rate_limits=RATE_LIMITS_2026),
        t.respond(at("2026-07-14 08:00:40"), 30000, 20000, 2000, 1500),
        t.reemit(at("2026-07-14 08:00:40.1")),
    ]
    return lines, t


def era_146():
    """Aug 2026, >= 0.146: cache_write_input_tokens (0), world_state and metadata items."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(
            at("2026-08-03 10:00:00"), ID_146, "0.146.0", session_id=ID_146, thread_source="user"
        ),
        line(at("2026-08-03 10:00:00.5"), "world_state", {"state": {"agents_md": {"text": "x"}}}),
        event(at("2026-08-03 10:00:01"), "task_started", turn_id="u1", started_at=1785751201),
        turn_2026(at("2026-08-03 10:00:01.1"), "gpt-5.5"),
        line(at("2026-08-03 10:00:02"), "inter_agent_communication_metadata", {"n": 1}),
    ]
    row = t.respond(at("2026-08-03 10:00:30"), 8000, 4000, 500, 100)
    for key in ("total_token_usage", "last_token_usage"):
        row["payload"]["info"][key]["cache_write_input_tokens"] = 0
    lines += [row, t.reemit(at("2026-08-03 10:00:30.1"))]
    return lines, t


def era_151():
    """>= 0.151: an ``ordinal`` on every line of a root thread (no inherited history)."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(
            at("2026-09-01 10:00:00"),
            ID_151,
            "0.151.0",
            ordinal=0,
            session_id=ID_151,
            thread_source="user",
        ),
        event(at("2026-09-01 10:00:01"), "task_started", turn_id="u1", ordinal=1),
        turn_2026(at("2026-09-01 10:00:01.1"), "gpt-5.5", ordinal=2),
        token_event(at("2026-09-01 10:00:01.2"), None, rate_limits=RATE_LIMITS_2026, ordinal=3),
        t.respond(at("2026-09-01 10:00:20"), 5000, 1000, 250, 50, ordinal=4),
        t.reemit(at("2026-09-01 10:00:20.1"), ordinal=5),
        t.respond(at("2026-09-01 10:01:20"), 6000, 4992, 120, 0, ordinal=6),
    ]
    return lines, t


def era_153():
    """>= 0.153: token_usage_record (one per response) next to token_count: counted once."""
    t = Thread(RATE_LIMITS_2026)
    lines = [
        meta_2026(
            at("2026-10-01 10:00:00"),
            ID_153,
            "0.153.2",
            ordinal=0,
            session_id=ID_153,
            thread_source="user",
        ),
        event(at("2026-10-01 10:00:01"), "task_started", turn_id="u1", ordinal=1),
        turn_2026(at("2026-10-01 10:00:01.1"), "gpt-5.5", ordinal=2),
    ]
    o = 3
    for second, call in ((20, (7000, 2000, 400, 100)), (50, (7600, 6912, 90, 10))):
        lines.append(token_usage_record(at(f"2026-10-01 10:00:{second}"), usage(*call), ordinal=o))
        lines.append(t.respond(at(f"2026-10-01 10:00:{second}.1"), *call, ordinal=o + 1))
        lines.append(t.reemit(at(f"2026-10-01 10:00:{second}.2"), ordinal=o + 2))
        o += 3
    return lines, t


# Hand sums (input, cached, output, reasoning), number of responses and models per era.
EXPECTED = {
    "0.34": (
        (3000 + 3500 + 4100, 0 + 2900 + 3400, 200 + 150 + 300, 128 + 64 + 256),
        ["unknown"] * 3,
    ),
    "0.47": ((6714 + 7020, 2944 + 6656, 388 + 211, 320 + 128), ["gpt-5-codex"] * 2),
    "0.50": ((12000 + 13000, 11904, 900 + 400, 700 + 192), ["gpt-5-codex"] * 2),
    "0.98": ((20000 + 21500, 12000 + 19968, 1500 + 600, 1000 + 300), ["gpt-5.3-codex"] * 2),
    "0.118": ((15000 + 16000, 3000 + 14976, 800 + 300, 512), ["gpt-5.4"] * 2),
    "0.144": ((30000, 20000, 2000, 1500), ["gpt-5.5"]),
    "0.146": ((8000, 4000, 500, 100), ["gpt-5.5"]),
    "0.151": ((5000 + 6000, 1000 + 4992, 250 + 120, 50), ["gpt-5.5"] * 2),
    "0.153": ((7000 + 7600, 2000 + 6912, 400 + 90, 100 + 10), ["gpt-5.5"] * 2),
}
ERAS = {
    "0.34": era_034,
    "0.47": era_047,
    "0.50": era_050,
    "0.98": era_098,
    "0.118": era_118,
    "0.144": era_144,
    "0.146": era_146,
    "0.151": era_151,
    "0.153": era_153,
}


def test_legacy_file_without_envelope_contributes_nothing(tmp_path):
    lines, _ = era_legacy()
    parser, responses = feed_all(lines)
    assert responses == []
    assert parser.meta.thread_id is None  # a bare first line is no session_meta
    path = session_path(tmp_path, "2025-09-06T09-46-49", "0006b370-3ba0-4783-b4ad-22ce45b53420")
    write(path, lines)
    rows, stats = scan_home(tmp_path)
    assert rows == []
    assert stats.files == 1


@pytest.mark.parametrize("era", list(ERAS))
def test_era_counts_by_hand(era):
    lines, _ = ERAS[era]()
    _, responses = feed_all(lines)
    sums, models = EXPECTED[era]
    assert summed(responses) == sums
    assert [r.model for r in responses] == models


def test_034_has_no_model_and_no_reemits():
    lines, _ = era_034()
    assert not any(x["type"] == "turn_context" for x in lines)
    assert all("rate_limits" not in x["payload"] for x in lines if x["type"] == "event_msg")
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [
        (3000, 0, 200, 128),
        (3500, 2900, 150, 64),
        (4100, 3400, 300, 256),
    ]
    assert {r.model for r in responses} == {"unknown"}


def test_047_reemits_halve_the_naive_sum_of_last():
    lines, _ = era_047()
    rows = [x for x in lines if x["type"] == "event_msg" and x["payload"]["info"]]
    naive = sum(x["payload"]["info"]["last_token_usage"]["input_tokens"] for x in rows)
    _, responses = feed_all(lines)
    assert naive == 2 * summed(responses)[0] == 2 * (6714 + 7020)


def test_098_dev_build_with_unknown_source_is_an_ordinary_root_session(tmp_path):
    lines, _ = era_098()
    lines[0]["payload"].update(cli_version="0.0.0", source="unknown")
    write(session_path(tmp_path, "2026-02-10T10-00-00", ID_098), lines)
    rows, _ = scan_home(tmp_path)
    assert summed(rows) == EXPECTED["0.98"][0]
    assert {r[SESSION] for r in rows} == {session_of(ID_098)}


def test_144_root_thread_session_is_its_own_id(tmp_path):
    lines, _ = era_144()
    write(session_path(tmp_path, "2026-07-14T10-00-00", ID_144), lines)
    rows, _ = scan_home(tmp_path)
    assert [(r[MODEL], *parts(r)) for r in rows] == [("gpt-5.5", 30000, 20000, 2000, 1500)]
    assert rows[0][SESSION] == session_of(ID_144)


def test_153_token_usage_record_alone_does_not_add_to_token_count():
    """With and without the token_usage_record lines the count is the same (no double count)."""
    lines, _ = era_153()
    without = [x for x in lines if x["type"] != "token_usage_record"]
    _, with_records = feed_all(lines)
    _, plain = feed_all(without)
    assert summed(with_records) == summed(plain) == EXPECTED["0.153"][0]
    assert len(with_records) == 2


def test_compacted_and_resumed_lines_between_responses_change_nothing():
    lines, _ = era_047()
    lines.insert(5, compacted(at("2025-10-27 01:31:35.139")))
    _, responses = feed_all(lines)
    assert summed(responses) == EXPECTED["0.47"][0]


@pytest.mark.parametrize("era", list(ERAS))
def test_per_file_sum_of_deltas_equals_the_final_cumulative_total(era):
    """Doc 5 validation: with R4+R5, sum(delta) == final total_token_usage (no fork involved)."""
    lines, thread = ERAS[era]()
    _, responses = feed_all(lines)
    assert summed(responses) == thread.final
    total_tokens = thread.total["total_tokens"]
    assert sum(r.input + r.output for r in responses) == total_tokens


def test_per_file_sum_with_missing_lasts_and_a_resume_still_equals_the_final_total():
    """Some rows without last (total - prev), a resume days later: still the final total."""
    t = Thread(RATE_LIMITS_050)
    lines = [meta(at("2025-10-24 07:44:35"), ID_047), turn(at("2025-10-24 07:44:36"))]
    for i in range(6):
        row = t.respond(at(f"2025-10-2{4 + i // 2} 08:0{i}:00"), 1000 + i, 10 * i, 50 + i, i)
        if i % 2:
            row["payload"]["info"]["last_token_usage"] = {}
        lines += [row, t.reemit(at(f"2025-10-2{4 + i // 2} 08:0{i}:01"))]
    _, responses = feed_all(lines)
    assert summed(responses) == t.final == (6015, 150, 315, 15)


def test_a_home_with_one_file_of_every_era(tmp_path):
    legacy, _ = era_legacy()
    write(session_path(tmp_path, "2025-09-06T09-46-49", "0006b370-legacy"), legacy)
    stamps = {
        "0.34": ("2025-09-20T10-00-00", ID_034),
        "0.47": ("2025-10-24T16-44-35", ID_047),
        "0.50": ("2025-10-30T13-00-00", ID_050),
        "0.98": ("2026-02-10T10-00-00", ID_098),
        "0.118": ("2026-04-08T22-02-46", ID_118),
        "0.144": ("2026-07-14T10-00-00", ID_144),
        "0.146": ("2026-08-03T12-00-00", ID_146),
        "0.151": ("2026-09-01T12-00-00", ID_151),
        "0.153": ("2026-10-01T12-00-00", ID_153),
    }
    for era, (stamp, sid) in stamps.items():
        lines, _ = ERAS[era]()
        write(session_path(tmp_path, stamp, sid), lines)
    rows, stats = scan_home(tmp_path)
    expected = [EXPECTED[era][0] for era in ERAS]
    assert summed(rows) == tuple(sum(e[i] for e in expected) for i in range(4))
    assert len(rows) == sum(len(EXPECTED[era][1]) for era in ERAS) == 17
    assert stats.files == 10
    assert {r[SESSION] for r in rows} == {session_of(sid) for _, sid in stamps.values()}

"""The per-file counting rules R2-R9 of the format doc (section 5), one small fixture each.

Every expectation is computed by hand from the doc, not from what the parser happens to return.
Cross-file rules (R1, R10, R11) live in test_discover.py and test_forks.py.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import orjson

from collector.parse import RolloutParser
from collector.report import Report
from tests.rollout import (
    RATE_LIMITS_050,
    T0,
    Thread,
    at,
    event,
    feed_all,
    line,
    message,
    meta,
    ms,
    only_total,
    parts,
    summed,
    token_event,
    token_info,
    turn,
    turn_2026,
    usage,
)

SID = "019a152d-35a0-72a0-91db-8ebe37fac69e"


def head() -> list[dict]:
    return [meta(at("2025-10-24 10:00:00"), SID), turn(at("2025-10-24 10:00:01"), "gpt-5-codex")]


# -- R2: stream line by line, skip what is not an enveloped JSON object ----------------------


def test_r2_blank_invalid_and_torn_lines_are_skipped_and_the_rest_counted():
    t = Thread(RATE_LIMITS_050)
    lines = [
        *head(),
        b"",
        b"   ",
        t.respond(at("2025-10-24 10:00:05"), 100, 40, 10, 5),
        b'{"timestamp":"2025-10-24T10:00:06.000Z","type":"event_msg","payload":{"type":"token_co',
        b'{"timestamp":"2025-10-24T10:00:07.000Z","type":"event_msg","payload":{"type":"token_count"'
        b',"info":{"total_token_usage":{"input_tokens":9999}}',  # torn mid-object
        b"{not json at all",
        t.respond(at("2025-10-24 10:00:08"), 200, 0, 20, 0),
    ]
    parser, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(100, 40, 10, 5), (200, 0, 20, 0)]
    # The broken token_count line is parsed and rejected; the other broken lines are not even
    # candidates (nothing usage-like in their head).
    assert parser.skipped["invalid JSON"] == 1


def test_r2_non_utf8_lines_are_skipped_and_do_not_stop_the_file():
    t = Thread(RATE_LIMITS_050)
    good = t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0)
    broken = (
        b'{"timestamp":"2025-10-24T10:00:06.000Z","type":"event_msg","payload":{"type":'
        b'"token_count","info":{"total_token_usage":{"input_tokens":5\xff\xfe}}}}'
    )
    lines = [
        *head(),
        b'{"timestamp":"x","type":"response_item","payload":{"text":"caf\xe9 \xff"}}',
        good,
        broken,
        t.respond(at("2025-10-24 10:00:09"), 7, 1, 3, 2),
    ]
    parser, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(100, 0, 10, 0), (7, 1, 3, 2)]
    assert parser.skipped["not UTF-8"] == 1


def test_r2_lines_without_the_envelope_carry_no_usage():
    """Bare items (legacy), arrays, strings and payload-less objects: nothing is counted."""
    u = usage(100, 0, 10, 0)
    lines = [
        {"type": "token_count", "info": {"total_token_usage": u, "last_token_usage": u}},
        {"timestamp": T0, "type": "event_msg", "payload": "token_count"},
        {"timestamp": T0, "type": "event_msg", "payload": None, "info": {"last_token_usage": u}},
        [{"type": "event_msg", "payload": {"type": "token_count"}}],
        b'"{\\"type\\":\\"event_msg\\",\\"payload\\":{\\"type\\":\\"token_count\\"}}"',
        b"12345",
    ]
    _, responses = feed_all(lines)
    assert responses == []


def test_r2_extra_whitespace_in_the_json_is_still_read():
    """A reformatted (but valid) line is the same JSON: the rules do not depend on byte layout."""
    raw = (
        b'{"timestamp": "2025-10-24T10:00:05.000Z", "type": "event_msg", "payload": '
        b'{"type": "token_count", "info": {"total_token_usage": {"input_tokens": 30, '
        b'"cached_input_tokens": 10, "output_tokens": 3, "reasoning_output_tokens": 1, '
        b'"total_tokens": 33}, "last_token_usage": {"input_tokens": 30, '
        b'"cached_input_tokens": 10, "output_tokens": 3, "reasoning_output_tokens": 1, '
        b'"total_tokens": 33}}}}'
    )
    _, responses = feed_all([*head(), raw])
    assert [parts(r) for r in responses] == [(30, 10, 3, 1)]


# -- R3: only event_msg/token_count carries tokens; info null is skipped ---------------------


def test_r3_only_token_count_events_carry_tokens():
    u = usage(500, 0, 50, 0)
    info = {"total_token_usage": u, "last_token_usage": u}
    lines = [
        *head(),
        line(at("2025-10-24 10:00:02"), "response_item", {"type": "message", "info": info}),
        event(at("2025-10-24 10:00:03"), "agent_message", message="hi", info=info),
        event(at("2025-10-24 10:00:04"), "task_complete", info=info),
        line(at("2025-10-24 10:00:05"), "compacted", {"message": "s", "info": info}),
        line(at("2025-10-24 10:00:06"), "token_count", {"type": "token_count", "info": info}),
        line(at("2025-10-24 10:00:07"), "world_state", {"type": "token_count", "info": info}),
        message(at("2025-10-24 10:00:08"), '"type":"event_msg","payload":{"type":"token_count"'),
    ]
    _, responses = feed_all(lines)
    assert responses == []


def test_r3_info_null_and_info_without_figures_are_skipped():
    t = Thread(RATE_LIMITS_050)
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:02"), None, rate_limits=RATE_LIMITS_050),
        token_event(at("2025-10-24 10:00:03"), {}, rate_limits=RATE_LIMITS_050),
        token_event(at("2025-10-24 10:00:04"), token_info(None, None)),
        t.respond(at("2025-10-24 10:00:05"), 1000, 500, 100, 40),
        token_event(at("2025-10-24 10:00:06"), None, rate_limits=RATE_LIMITS_050),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(1000, 500, 100, 40)]


# -- R4: a row whose total equals the previous total is a re-emit ----------------------------


def test_r4_reemits_with_equal_total_and_last_are_counted_once():
    t = Thread(RATE_LIMITS_050)
    lines = [
        *head(),
        t.respond(at("2025-10-24 10:00:05"), 6714, 2944, 388, 320),
        t.reemit(at("2025-10-24 10:00:05.1")),
        t.respond(at("2025-10-24 10:01:00"), 7000, 6000, 120, 64),
        t.reemit(at("2025-10-24 10:01:00.2")),
        t.reemit(at("2025-10-24 10:01:03")),
    ]
    _, responses = feed_all(lines)
    assert len(responses) == 2
    assert summed(responses) == (6714 + 7000, 2944 + 6000, 388 + 120, 320 + 64)


def test_r4_late_out_of_order_reemit_of_an_older_total_is_not_counted_again():
    """A stale snapshot of an earlier total arriving after a newer one (tokscale "stale")."""
    t = Thread(RATE_LIMITS_050)
    first = t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0)
    lines = [
        *head(),
        first,
        t.respond(at("2025-10-24 10:00:30"), 200, 100, 20, 5),
        {**first, "timestamp": at("2025-10-24 10:00:31")},  # late re-emit of the first row
        t.respond(at("2025-10-24 10:01:00"), 300, 200, 30, 10),
        {**first, "timestamp": at("2025-10-24 10:01:02")},
    ]
    _, responses = feed_all(lines)
    assert summed(responses) == (600, 300, 60, 15)
    assert len(responses) == 3


def test_r4_summing_every_last_would_double_a_047_file():
    """Doc: summing every last_token_usage of a 0.47 file gives exactly 2x; R4 gives 1x."""
    t = Thread(RATE_LIMITS_050)
    lines = head()
    for i in range(5):
        lines.append(t.respond(at(f"2025-10-24 10:0{i}:10"), 1000 * (i + 1), 500 * i, 10, 2))
        lines.append(t.reemit(at(f"2025-10-24 10:0{i}:11")))
    _, responses = feed_all(lines)
    assert summed(responses) == (15000, 5000, 50, 10) == t.final
    naive_input = sum(2 * 1000 * (i + 1) for i in range(5))
    assert naive_input == 2 * summed(responses)[0]


# -- R5: the delta is last when present and non-empty, else total - prev ---------------------


def test_r5_delta_is_last_token_usage_when_present():
    """A first row whose total is larger than its last (a resumed file): only last counts."""
    lines = [
        *head(),
        token_event(
            at("2025-10-24 10:00:05"),
            token_info(usage(5000, 1000, 400, 100), usage(300, 200, 40, 10)),
        ),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(300, 200, 40, 10)]


def test_r5_missing_last_uses_total_minus_prev():
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:05"), token_info(usage(100, 50, 10, 4), None)),
        token_event(at("2025-10-24 10:00:09"), token_info(usage(250, 120, 25, 9))),  # no key
        token_event(at("2025-10-24 10:00:19"), token_info(usage(400, 250, 45, 9), {})),
    ]
    _, responses = feed_all(lines)
    # First row: no prev, so its total is its delta; then 250-100 etc.; then 400-250 etc.
    assert [parts(r) for r in responses] == [(100, 50, 10, 4), (150, 70, 15, 5), (150, 130, 20, 0)]
    assert summed(responses) == (400, 250, 45, 9)


def test_r5_empty_last_object_counts_as_missing():
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:05"), token_info(usage(1, 0, 1, 0), usage(1, 0, 1, 0))),
        token_event(at("2025-10-24 10:00:06"), token_info(usage(11, 4, 6, 2), {})),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(1, 0, 1, 0), (10, 4, 5, 2)]


def test_r5_negative_difference_without_last_is_a_counter_reset_and_counts_total():
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:05"), token_info(usage(1000, 200, 100, 50))),
        token_event(at("2025-10-24 10:00:09"), token_info(usage(300, 0, 30, 0))),
        token_event(at("2025-10-24 10:00:19"), token_info(usage(350, 20, 40, 5))),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(1000, 200, 100, 50), (300, 0, 30, 0), (50, 20, 10, 5)]


def test_r5_one_negative_component_is_enough_for_a_reset():
    """Only cached regressed: the difference is not usable, the new total is the delta."""
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:05"), token_info(usage(1000, 800, 100, 50))),
        token_event(at("2025-10-24 10:00:09"), token_info(usage(1200, 100, 150, 60))),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(1000, 800, 100, 50), (1200, 100, 150, 60)]


def test_r5_totals_are_never_summed():
    t = Thread(RATE_LIMITS_050)
    lines = [*head()] + [t.respond(at(f"2025-10-24 10:00:1{i}"), 100, 10, 10, 1) for i in range(4)]
    _, responses = feed_all(lines)
    assert summed(responses) == (400, 40, 40, 4)  # not 100+200+300+400 = 1000


# -- R6: estimates (only total_tokens set) are not usage -------------------------------------


def test_r6_context_window_full_reset_row_is_not_counted_and_usage_continues_after_it():
    """set_total_tokens_full: total := {total_tokens: window}, last := {window - prev_total}."""
    t = Thread(RATE_LIMITS_050, window=258400)
    lines = [
        *head(),
        t.respond(at("2025-10-24 10:00:05"), 200000, 150000, 3000, 1000),  # total 203000
        t.respond(at("2025-10-24 10:01:05"), 50000, 40000, 2000, 500),  # total 255000
        t.context_full(at("2025-10-24 10:02:00")),  # last.total_tokens = 3400: not usage
        t.reemit(at("2025-10-24 10:02:00.5")),
        t.respond(at("2025-10-24 10:03:00"), 30000, 0, 1000, 200),
        t.reemit(at("2025-10-24 10:03:01")),
    ]
    # After the reset, a row with an empty last: total - prev must still give its own usage.
    after = usage(40000, 5000, 1500, 200, 258400 + 31000 + 10500)
    lines.append(token_event(at("2025-10-24 10:04:00"), token_info(after, {})))
    parser, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [
        (200000, 150000, 3000, 1000),
        (50000, 40000, 2000, 500),
        (30000, 0, 1000, 200),
        (10000, 5000, 500, 0),
    ]
    assert summed(responses) == (290000, 195000, 6500, 1700)
    assert (parser.skipped["estimate only"], parser.skipped["re-emitted"]) == (1, 2)


def test_r4_a_late_copy_of_an_estimate_after_a_reset_does_not_move_the_baseline():
    """After a reset, an estimate repeats the reset's cumulative vector with its own last. A stale
    copy of it arriving later must not become the baseline a row without ``last`` is measured
    from (found by the property tests)."""
    t = Thread(RATE_LIMITS_050, window=1_000_000)
    lines = [*head(), t.respond(at("2025-10-24 10:00:00"), 100, 0, 10)]
    lines.append(t.context_full(at("2025-10-24 10:00:01")))  # total {1,000,000}: not usage
    estimate = t.estimate(at("2025-10-24 10:00:02"), 1)  # same total, last {1}: not usage
    lines.append(estimate)
    lines.append(t.respond(at("2025-10-24 10:00:03"), 0, 0, 1))
    lines.append(estimate)  # the stale copy, late
    after = t.respond(at("2025-10-24 10:00:04"), 0, 0, 1)
    del after["payload"]["info"]["last_token_usage"]  # measured from the cumulative growth
    lines.append(after)
    parser, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(100, 0, 10, 0), (0, 0, 1, 0), (0, 0, 1, 0)]
    assert parser.skipped["re-emitted late"] == 1


def test_r4_rows_without_a_cumulative_vector_repeating_the_last_are_reemits():
    """Without a cumulative vector, a row that repeats the row before's last is a re-emit, on
    the fast path and on the general one (a reformatted line) alike."""
    info = {"last_token_usage": usage(10, 0, 5, 0)}
    rows = [token_event(at(f"2025-10-24 10:00:0{i}"), info) for i in (1, 2)]
    for encode_line in (orjson.dumps, lambda r: json.dumps(r).encode()):  # compact, spaced
        parser = RolloutParser()
        responses = [r for r in (parser.feed(encode_line(x)) for x in [*head(), *rows]) if r]
        assert [parts(r) for r in responses] == [(10, 0, 5, 0)]
        assert parser.skipped["re-emitted"] == 1


def test_r3_rows_with_rate_limits_only_are_not_counted_as_reemits():
    parser, responses = feed_all(
        [*head(), *(token_event(at(f"2025-10-24 10:00:0{i}"), None) for i in (1, 2, 3))]
    )
    assert responses == [] and "re-emitted" not in parser.skipped


def test_r6_compaction_estimate_row_is_not_counted():
    """recompute_token_usage: last := {total_tokens: estimate, others 0}, total unchanged."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        *head(),
        t.respond(at("2025-10-25 09:00:05"), 9000, 8000, 300, 100),
        line(at("2025-10-25 09:00:30"), "compacted", {"message": "s", "replacement_history": []}),
        t.estimate(at("2025-10-25 09:00:31"), 12345),
        t.respond(at("2025-10-25 09:01:00"), 4000, 1000, 200, 0),
    ]
    _, responses = feed_all(lines)
    assert summed(responses) == (13000, 9000, 500, 100)
    assert len(responses) == 2


def test_r6_estimate_without_total_or_with_sparse_last_is_not_counted():
    lines = [
        *head(),
        token_event(at("2025-10-24 10:00:05"), token_info(None, only_total(7777))),
        token_event(at("2025-10-24 10:00:06"), token_info(None, {"total_tokens": 4242})),
        token_event(
            at("2025-10-24 10:00:07"),
            token_info(usage(0, 0, 0, 0, 258400), {"total_tokens": 1000}),
        ),
    ]
    _, responses = feed_all(lines)
    assert responses == []


def test_r6_total_is_input_plus_output_not_the_logged_total_tokens():
    """A row whose total_tokens wrongly adds reasoning (old ccusage fixture): total = in + out."""
    wrong = usage(1000, 400, 300, 200, total=1000 + 300 + 200)
    lines = [*head(), token_event(at("2025-10-24 10:00:05"), token_info(wrong, wrong))]
    _, responses = feed_all(lines)
    report = Report("daily", ZoneInfo("UTC"))
    for r in responses:
        report.add(r.ts_ms, r.model, r.input, r.cached, r.output, r.reasoning, "s")
    totals = report.to_json()["totals"]
    assert (totals["input"], totals["output"], totals["total"]) == (1000, 300, 1300)


# -- R7: clamps ------------------------------------------------------------------------------


def test_r7_cached_is_clamped_to_input_and_reasoning_to_output():
    lines = [
        *head(),
        token_event(
            at("2025-10-24 10:00:05"),
            token_info(usage(100, 150, 20, 30), usage(100, 150, 20, 30)),
        ),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(100, 100, 20, 20)]


def test_r7_negative_components_become_zero():
    lines = [
        *head(),
        token_event(
            at("2025-10-24 10:00:05"),
            token_info(usage(10, 0, 40, 0), usage(-5, -3, 40, -1)),
        ),
        token_event(
            at("2025-10-24 10:00:06"),
            token_info(usage(60, 0, 50, 0), usage(50, -7, 10, 4)),
        ),
    ]
    _, responses = feed_all(lines)
    assert [parts(r) for r in responses] == [(0, 0, 40, 0), (50, 0, 10, 4)]


def test_r7_a_delta_that_clamps_to_nothing_is_dropped():
    lines = [
        *head(),
        token_event(
            at("2025-10-24 10:00:05"), token_info(usage(1, 0, 1, 0), usage(-5, -3, -2, -1))
        ),
    ]
    _, responses = feed_all(lines)
    assert responses == []


# -- R8: model from the most recent turn_context ---------------------------------------------


def test_r8_model_follows_the_most_recent_turn_context_and_model_changes_mid_file():
    t = Thread(RATE_LIMITS_050)
    lines = [
        meta(at("2025-10-24 10:00:00"), SID),
        turn(at("2025-10-24 10:00:01"), "gpt-5-codex"),
        t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0),
        turn(at("2025-10-24 10:00:10"), "gpt-5-codex"),
        t.respond(at("2025-10-24 10:00:15"), 200, 0, 20, 0),
        turn(at("2025-10-24 10:00:20"), "gpt-5"),  # /model
        t.reemit(at("2025-10-24 10:00:20.5")),  # re-emit of a gpt-5-codex row: not counted
        t.respond(at("2025-10-24 10:00:25"), 300, 0, 30, 0),
        t.respond(at("2025-10-24 10:00:35"), 400, 0, 40, 0),
        turn(at("2025-10-24 10:00:40"), "gpt-5-codex-mini"),
        t.respond(at("2025-10-24 10:00:45"), 500, 0, 50, 0),
    ]
    _, responses = feed_all(lines)
    assert [(r.model, r.input) for r in responses] == [
        ("gpt-5-codex", 100),
        ("gpt-5-codex", 200),
        ("gpt-5", 300),
        ("gpt-5", 400),
        ("gpt-5-codex-mini", 500),
    ]


def test_r8_no_turn_context_means_unknown_model():
    t = Thread()
    lines = [meta(at("2025-10-24 10:00:00"), SID), t.respond(at("2025-10-24 10:00:05"), 1, 0, 1)]
    _, responses = feed_all(lines)
    assert [r.model for r in responses] == ["unknown"]


def test_r8_collaboration_mode_settings_model_is_the_fallback():
    t = Thread()
    lines = [
        meta(at("2026-02-10 10:00:00"), SID),
        turn_2026(at("2026-02-10 10:00:01"), model=None, settings_model="gpt-5.3-codex"),
        t.respond(at("2026-02-10 10:00:05"), 10, 0, 5),
        turn_2026(at("2026-02-10 10:00:06"), model="gpt-5.2", settings_model="gpt-5.3-codex"),
        t.respond(at("2026-02-10 10:00:09"), 20, 0, 5),
    ]
    _, responses = feed_all(lines)
    assert [r.model for r in responses] == ["gpt-5.3-codex", "gpt-5.2"]


def test_r8_defensive_fallbacks_info_model_name_and_payload_model():
    lines = [meta(at("2025-10-24 10:00:00"), SID)]
    places = (
        ("info", "model", "gpt-5-a"),
        ("info", "model_name", "gpt-5-b"),
        ("payload", "model", "gpt-5-c"),
    )
    for i, (where, key, name) in enumerate(places):
        u = usage(10 * (i + 1), 0, 1, 0)
        total = usage(sum(10 * (k + 1) for k in range(i + 1)), 0, i + 1, 0)
        info = token_info(total, u, **({key: name} if where == "info" else {}))
        row = token_event(at(f"2025-10-24 10:00:0{i + 1}"), info)
        if where == "payload":
            row["payload"][key] = name
        lines.append(row)
    _, responses = feed_all(lines)
    assert [r.model for r in responses] == ["gpt-5-a", "gpt-5-b", "gpt-5-c"]


def test_r8_a_later_turn_context_does_not_rename_earlier_responses():
    t = Thread()
    lines = [
        meta(at("2025-10-24 10:00:00"), SID),
        t.respond(at("2025-10-24 10:00:05"), 1, 0, 1),  # before any turn_context
        turn(at("2025-10-24 10:00:06"), "gpt-5-codex"),
        t.respond(at("2025-10-24 10:00:09"), 2, 0, 2),
    ]
    _, responses = feed_all(lines)
    assert [(r.model, r.input) for r in responses] == [("unknown", 1), ("gpt-5-codex", 2)]


# -- R9: the line timestamp (UTC) -------------------------------------------------------------


def test_r9_the_line_timestamp_is_the_response_time():
    t = Thread()
    stamp = "2025-10-28T01:23:22.097Z"
    lines = [*head(), t.respond(stamp, 6714, 2944, 388, 320)]
    _, responses = feed_all(lines)
    assert [r.ts_ms for r in responses] == [ms(stamp)] == [1761614602097]


def test_r9_numeric_timestamps_in_seconds_and_milliseconds_are_accepted():
    t = Thread()
    a = t.respond(T0, 1, 0, 1)
    b = t.respond(T0, 2, 0, 2)
    a["timestamp"] = 1761291875  # seconds
    b["timestamp"] = 1761291876250  # milliseconds
    _, responses = feed_all([*head(), a, b])
    assert [r.ts_ms for r in responses] == [1761291875000, 1761291876250]


def test_r9_the_payload_or_meta_timestamp_is_not_the_response_time():
    t = Thread()
    row = t.respond(at("2025-10-27 01:31:35.139"), 5, 0, 5)
    row["payload"]["timestamp"] = at("2025-10-24 00:00:00")
    _, responses = feed_all([*head(), row])
    assert [r.ts_ms for r in responses] == [ms(at("2025-10-27 01:31:35.139"))]


def test_state_round_trip_continues_exactly():
    """Not a rule of its own: to_state/from_state mid-file gives the same responses (R4/R5/R8)."""
    t = Thread(RATE_LIMITS_050)
    lines = [
        *head(),
        t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0),
        t.respond(at("2025-10-24 10:00:15"), 100, 50, 10, 0),
        t.reemit(at("2025-10-24 10:00:16")),
        token_event(at("2025-10-24 10:00:25"), token_info(usage(230, 60, 25, 0), {})),
    ]
    _, full = feed_all(lines)
    first, _ = feed_all(lines[:4])
    resumed = RolloutParser.from_state(orjson.loads(orjson.dumps(first.to_state())))
    rest = [resumed.feed(orjson.dumps(x)) for x in lines[4:]]
    assert [parts(r) for r in rest if r] == [parts(r) for r in full[2:]] == [(30, 10, 5, 0)]
    assert [r.model for r in rest if r] == ["gpt-5-codex"]


def test_r9_absurd_numeric_timestamp_is_skipped_not_a_crash():
    t = Thread()
    bad = t.respond(T0, 5, 0, 5)
    bad["timestamp"] = -1.797693134862316e305
    good = t.respond(at("2025-10-24 10:00:09"), 7, 0, 7)
    parser = RolloutParser()
    out = [parser.feed(orjson.dumps(x)) for x in [*head(), bad, good]]
    assert [parts(r) for r in out if r] == [(7, 0, 7, 0)]


def test_r4_a_late_reemit_right_after_an_incremental_read_is_still_recognised():
    """The seen-totals memory travels in the saved state: A, B | late A, C."""
    t = Thread(RATE_LIMITS_050)
    a = t.respond(at("2025-10-24 10:00:05"), 100, 0, 10, 0)
    lines = [*head(), a, t.respond(at("2025-10-24 10:00:30"), 200, 0, 20, 0)]
    later = [
        {**a, "timestamp": at("2025-10-24 10:00:31")},
        t.respond(at("2025-10-24 10:01:00"), 1, 0, 1),
    ]
    first, responses = feed_all(lines)
    resumed = RolloutParser.from_state(orjson.loads(orjson.dumps(first.to_state())))
    rest = [r for r in (resumed.feed(orjson.dumps(x)) for x in later) if r]
    assert summed(responses + rest) == (301, 0, 31, 0)


def test_r5_second_context_window_reset_then_a_row_without_last():
    t = Thread(window=1000)
    lines = [
        *head(),
        t.respond(at("2025-10-24 10:00:01"), 100, 0, 10, 0),
        t.context_full(at("2025-10-24 10:00:02")),  # total {1000}
        t.respond(at("2025-10-24 10:00:03"), 50, 0, 5, 0),  # total (50, 0, 5, 0, 1055)
        t.context_full(at("2025-10-24 10:00:04")),  # total {1000} again: a new reset
    ]
    row = t.respond(at("2025-10-24 10:00:05"), 70, 0, 7, 0)  # total (70, 0, 7, 0, 1077)
    row["payload"]["info"]["last_token_usage"] = {}  # R5: total - prev = (70, 0, 7, 0)
    _, responses = feed_all([*lines, row])
    assert [parts(r) for r in responses] == [(100, 0, 10, 0), (50, 0, 5, 0), (70, 0, 7, 0)]


def test_figures_past_64_bits_are_read_exactly_never_as_zero():
    """A count past 64 bits, in a token_count line or a response record, keeps its value (the
    scanner then refuses it as out of bounds); a JSON decoder that reads it as a float would
    make it 0 and count a response that never happened."""
    huge = 2**64 + 5
    usage = {
        "input_tokens": huge,
        "cached_input_tokens": 0,
        "output_tokens": 5,
        "reasoning_output_tokens": 0,
        "total_tokens": huge + 5,
    }
    token_count = {
        "timestamp": "2025-10-24T10:00:05.000Z",
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "info": {"total_token_usage": usage, "last_token_usage": usage},
        },
    }
    record = {
        "timestamp": "2025-10-24T10:00:06.000Z",
        "type": "token_usage_record",
        "payload": {"thread_id": SID, "response_id": "resp_1", "usage": usage},
    }
    lines = [*head(), token_count, record]
    parser, responses = feed_all([json.dumps(x).encode() for x in lines])
    assert [r.input for r in responses] == [huge, huge]

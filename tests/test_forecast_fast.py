"""Fast tests of the send forecast (mailer/capacity/forecast.py), the arithmetic behind the
refusal of a command over the day limit, pinned value by value to kill mutmut's mutants
(docs/testing.md). tests/test_capacity.py drives the same through the CLI."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from mailer.capacity import forecast as fc
from mailer.capacity.forecast import Run, Sent, Wave
from mailer.flows.base import ANSWER, BULK, TIMELY

T = datetime(2027, 1, 4, 8, 0, tzinfo=timezone.utc)
H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)


def test_no_waves_no_sends():
    run = fc.simulate([], [(M, 10)])
    assert run.sent == [] and run.times == []


def test_without_windows_a_wave_leaves_at_once_and_per_send_spreads_it():
    wave = Wave(T, 3, "w", BULK)
    assert fc.simulate([wave], []).sent == [Sent(wave, T, T)]
    run = fc.simulate([wave], [], per_send=S)
    assert run.sent == [Sent(wave, T, T + 3 * S)] and run.times == [T, T, T]


def test_a_minute_window_paces_the_wave():
    wave = Wave(T, 25, "w", BULK)
    run = fc.simulate([wave], [(M, 10)])
    assert run.sent == [Sent(wave, T, T + 2 * M)]
    assert run.times == [T] * 10 + [T + M] * 10 + [T + 2 * M] * 5
    assert run.sent[0].late == 2 * M


def test_history_counts_in_the_windows():
    wave = Wave(T, 5, "w", BULK)
    run = fc.simulate([wave], [(M, 10)], history=[T - 30 * S] * 8)
    assert run.times == [T] * 2 + [T + 30 * S] * 3


def test_answers_go_before_bulk_due_at_the_same_time_and_earlier_due_first():
    bulk, answer = Wave(T, 10, "bulk", BULK), Wave(T, 10, "answer", ANSWER)
    run = fc.simulate([bulk, answer], [(M, 10)])
    assert [s.wave.what for s in run.sent] == ["answer", "bulk"]
    assert run.sent[0] == Sent(answer, T, T) and run.sent[1] == Sent(bulk, T + M, T + M)
    early, late = Wave(T, 10, "early", TIMELY), Wave(T + S, 10, "late", TIMELY)
    run = fc.simulate([late, early], [(M, 10)])
    assert [s.wave.what for s in run.sent] == ["early", "late"]
    assert run.sent[1].first == T + M


def test_a_later_wave_waits_for_its_time_and_gaps_are_skipped():
    first, second = Wave(T, 2, "a", BULK), Wave(T + H, 2, "b", BULK)
    run = fc.simulate([second, first], [(M, 10)])
    assert run.sent == [Sent(first, T, T), Sent(second, T + H, T + H)]
    assert fc.simulate([second, first], []).sent == [Sent(first, T, T), Sent(second, T + H, T + H)]


def test_an_answer_arriving_mid_wave_overtakes_the_rest():
    bulk, answer = Wave(T, 30, "bulk", BULK), Wave(T + 30 * S, 5, "answer", ANSWER)
    run = fc.simulate([bulk, answer], [(M, 10)])
    assert run.sent[0] == Sent(answer, T + M, T + M)
    assert run.sent[1] == Sent(bulk, T, T + 3 * M)
    assert run.times == [T] * 10 + [T + M] * 10 + [T + 2 * M] * 10 + [T + 3 * M] * 5


def test_backlog_at_a_moment():
    waves = [Wave(T, 25, "w", BULK), Wave(T + M, 5, "v", BULK)]
    run = fc.simulate(waves, [(M, 10)])
    assert run.backlog_at(waves, T - S) == 0
    assert run.backlog_at(waves, T) == 15
    assert run.backlog_at(waves, T + M) == 10
    assert run.backlog_at(waves, T + 10 * M) == 0


def test_peak_day_is_the_busiest_24_hours_holding_a_new_wave():
    old = Wave(T, 100, "old", BULK)
    new = Wave(T + 23 * H, 10, "new", BULK, new=True)
    later = Wave(T + 24 * H, 50, "later", BULK)
    assert fc.peak_day([old, new, later]) == (110, [old, new])
    assert fc.peak_day([old, later], only_new=True) == (0, [])
    assert fc.peak_day([old, later], only_new=False) == (100, [old])
    assert fc.peak_day([]) == (0, [])
    far = Wave(T + 47 * H, 100, "far", BULK, new=True)
    assert fc.peak_day([old, new, later, far]) == (150, [later, far])


def test_peak_day_ties_go_to_the_stretch_with_more_waves():
    a, b = Wave(T, 10, "a", BULK, new=True), Wave(T + 30 * H, 6, "b", BULK, new=True)
    c = Wave(T + 31 * H, 4, "c", BULK, new=True)
    assert fc.peak_day([a, b, c]) == (10, [b, c])


def test_the_24_hours_end_at_a_wave_and_exclude_exactly_a_day_before():
    a, b = Wave(T, 10, "a", BULK, new=True), Wave(T + 24 * H, 10, "b", BULK, new=True)
    assert fc.peak_day([a, b])[0] == 10
    c = Wave(T + 24 * H - S, 10, "c", BULK, new=True)
    assert fc.peak_day([a, c]) == (20, [a, c])


def test_days_over_the_limit():
    waves = [Wave(T, 60, "a", BULK, new=True), Wave(T + 2 * H, 50, "b", BULK, new=True),
             Wave(T + 3 * 24 * H, 100, "c", BULK, new=True), Wave(T + 5 * 24 * H, 500, "old", BULK)]
    assert fc.days_over(waves, 100) == [date(2027, 1, 4)]
    assert fc.days_over(waves, 99) == [date(2027, 1, 4), date(2027, 1, 7)]
    assert fc.days_over(waves, 110) == []
    assert fc.days_over(waves, 109) == [date(2027, 1, 4)]


def test_day_limit_of_a_pace():
    assert fc.day_limit([]) is None
    assert fc.day_limit([(M, 30)]) == 43200
    assert fc.day_limit([(M, 30), (24 * H, 10000)]) == 10000
    assert fc.day_limit([(timedelta(days=2), 5)]) is None
    assert fc.day_limit([(24 * H, 500)]) == 500
    assert fc.day_limit([(H, 1)]) == 24


def test_late_waves_first_of_each_series_and_every_one_off():
    def sent(at, late, new=True, series=""):
        return Sent(Wave(at, 1, "w", BULK, new=new, series=series), at, at + late)

    day1 = sent(T, 2 * H, series="tokyo")
    day2 = sent(T + 24 * H, 2 * H, series="tokyo")
    exact = sent(T + H, H)
    old = sent(T, 5 * H, new=False)
    one_off_a, one_off_b = sent(T + 2 * H, 3 * H), sent(T + 3 * H, 3 * H)
    ok = sent(T, H - S)
    run = Run([day2, old, one_off_b, day1, exact, one_off_a, ok], [])
    assert fc.late_waves(run) == [day1, one_off_a, one_off_b]
    assert fc.late_waves(run, within=2 * H) == [one_off_a, one_off_b]
    assert fc.late_waves(run, within=timedelta(0)) == [day1, ok, exact, one_off_a, one_off_b]


# --- from the first mutmut run's survivors ------------------------------------------------------


def test_a_single_email_leaves_with_and_without_a_pace():
    one = Wave(T, 1, "one", ANSWER)
    assert fc.simulate([one], [(M, 10)]).sent == [Sent(one, T, T)]
    assert fc.simulate([one], []).sent == [Sent(one, T, T)]


def test_a_full_window_reopens_at_its_exact_moment_between_whole_seconds():
    wave = Wave(T, 3, "w", BULK)
    run = fc.simulate([wave], [(M, 2)], per_send=timedelta(milliseconds=300))
    assert run.times == [T, T, T + M]
    assert run.sent == [Sent(wave, T, T + M + timedelta(milliseconds=300))]


def test_peak_day_by_default_counts_only_stretches_with_a_new_wave():
    old, new = Wave(T, 100, "old", BULK), Wave(T + 30 * H, 10, "new", BULK, new=True)
    assert fc.peak_day([old, new]) == (10, [new])


def test_a_tie_goes_to_the_stretch_with_more_waves_not_the_later_one():
    a, b = Wave(T, 5, "a", BULK, new=True), Wave(T + H, 5, "b", BULK, new=True)
    c = Wave(T + 50 * H, 10, "c", BULK, new=True)
    assert fc.peak_day([a, b, c]) == (10, [a, b])


def test_day_limit_counts_only_whole_windows_in_a_day():
    assert fc.day_limit([(7 * H, 10)]) == 30

"""Quiet hours, the daily cap and opt-outs (hotline/sms/policy.py), with a controlled clock."""
from datetime import UTC, datetime, time

import pytest

from hotline.sms import policy
from hotline.sms.policy import Rules, decide, in_window, next_window

RULES = Rules()  # Asia/Shanghai, 21:00-08:00 quiet, 3 a day


def beijing(hour: int, minute: int = 0, second: int = 0, day: int = 25) -> datetime:
    """A Beijing wall-clock time on 2026-11-<day>, as the UTC instant a worker sees."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=policy.ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.mark.parametrize("at, open_", [(beijing(7, 59, 59), False), (beijing(8), True), (beijing(12), True),
                                       (beijing(20, 59, 59), True), (beijing(21), False), (beijing(23, 30), False),
                                       (beijing(0, 5), False)])
def test_the_window_is_08_00_to_21_00_local_time(at, open_):
    assert in_window(at, RULES) is open_


def test_an_alert_reaching_the_worker_at_21_00_01_waits_for_08_00_next_morning():
    verdict = decide("alert", beijing(21, 0, 1), RULES, opt_out=None, sent_today=0)
    assert verdict.action == "wait" and verdict.until == beijing(8, day=26)


def test_an_alert_at_20_59_goes_now():
    assert decide("alert", beijing(20, 59), RULES, opt_out=None, sent_today=0).send


def test_after_midnight_the_window_opens_the_same_morning():
    assert next_window(beijing(2, 30, day=26), RULES) == beijing(8, day=26)


@pytest.mark.parametrize("kind", ["receipt", "decision", "closure", "transfer"])
def test_statutory_notices_go_at_night_and_over_the_cap(kind):
    assert decide(kind, beijing(23), RULES, opt_out=None, sent_today=99).send


def test_a_handler_reminder_waits_for_the_morning_but_is_not_capped():
    assert decide("reminder", beijing(23), RULES, opt_out=None, sent_today=0).action == "wait"
    assert decide("reminder", beijing(9), RULES, opt_out=None, sent_today=99).send


@pytest.mark.parametrize("kind", ["alert", "rating", "survey", "something_new"])
def test_marketing_kinds_are_capped_per_number_and_day(kind):
    assert decide(kind, beijing(10), RULES, opt_out=None, sent_today=2).send
    verdict = decide(kind, beijing(10), RULES, opt_out=None, sent_today=3)
    assert (verdict.action, verdict.code) == ("refuse", "daily_cap") and "cap 3" in verdict.reason


def test_an_opt_out_of_marketing_stops_alerts_and_surveys_but_not_case_notices():
    assert decide("alert", beijing(10), RULES, opt_out="marketing", sent_today=0).code == "opted_out"
    assert decide("rating", beijing(10), RULES, opt_out="marketing", sent_today=0).code == "opted_out"
    assert decide("receipt", beijing(10), RULES, opt_out="marketing", sent_today=0).send
    assert decide("closure", beijing(23), RULES, opt_out="marketing", sent_today=0).send


def test_an_opt_out_of_all_stops_statutory_notices_too_but_not_a_code_the_person_asked_for():
    for kind in ("receipt", "decision", "closure", "reminder", "alert"):
        verdict = decide(kind, beijing(10), RULES, opt_out="all", sent_today=0)
        assert (verdict.action, verdict.code) == ("refuse", "opted_out"), kind
    assert decide("confirm", beijing(23), RULES, opt_out="all", sent_today=5).send


def test_the_opt_out_is_said_before_the_quiet_hours():
    """Refused at once (and recorded), rather than kept waiting all night to be refused."""
    assert decide("alert", beijing(23), RULES, opt_out="marketing", sent_today=0).action == "refuse"


def test_hours_come_from_the_configuration():
    rules = Rules.from_config({"TIMEZONE": "Asia/Shanghai", "SMS_QUIET_START": "20:00", "SMS_QUIET_END": "09:30",
                               "SMS_DAILY_CAP": "1"})
    assert (rules.quiet_start, rules.quiet_end, rules.daily_cap) == (time(20), time(9, 30), 1)
    assert decide("alert", beijing(20, 30), rules, opt_out=None, sent_today=0).until == beijing(9, 30, day=26)
    with pytest.raises(ValueError, match="21:00"):
        policy.parse_clock("9pm")


def test_a_quiet_spell_inside_one_day_is_supported():
    lunch = Rules(quiet_start=time(12), quiet_end=time(13))
    assert not in_window(beijing(12, 30), lunch) and in_window(beijing(13), lunch) and in_window(beijing(23), lunch)
    assert next_window(beijing(12, 30), lunch) == beijing(13)

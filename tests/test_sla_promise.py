"""The portal's promise: working days and the expected answer date for a request sent now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tawasul.sla.models import SlaPolicy
from tawasul.sla.selectors import sla_promise

RIYADH = ZoneInfo("Asia/Riyadh")


def test_default_promise_is_five_working_days_in_the_saudi_week(ministry):
    thursday_afternoon = dt.datetime(2026, 12, 3, 14, 0, tzinfo=RIYADH)
    promise = sla_promise(now=thursday_afternoon)
    assert promise.working_days == 5
    # 1 h left on Thursday, Friday and Saturday closed, Sun–Wed full days, 6 h on Thursday
    assert promise.answer_by.astimezone(RIYADH) == dt.datetime(2026, 12, 10, 14, 0, tzinfo=RIYADH)


def test_a_centre_policy_changes_the_promise(ministry):
    SlaPolicy.objects.create(
        name_ar="سياسة الوزارة",
        name_en="Ministry policy",
        centre=ministry.ministry.centre,
        first_response_minutes=420,
        resolution_minutes=3 * 420,
        objection_review_minutes=4200,
    )
    sunday_morning = dt.datetime(2026, 12, 6, 8, 0, tzinfo=RIYADH)
    promise = sla_promise(now=sunday_morning)
    assert promise.working_days == 3
    assert promise.answer_by.astimezone(RIYADH) == dt.datetime(2026, 12, 9, 8, 0, tzinfo=RIYADH)


def test_the_home_page_states_the_promise_in_both_languages(client, ministry):
    english = client.get("/en/").content.decode()
    assert "within 5 working days" in english
    assert "can expect an answer by" in english
    assert " AH" in english.split("can expect an answer by")[1][:400]
    arabic = client.get("/").content.decode()
    assert "هـ" in arabic

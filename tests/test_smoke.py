from tawasul.cases.services import request_submit


def test_submit_gives_tracking_number(ministry, sara):
    request = request_submit(
        beneficiary=sara,
        kind="complaint",
        category=ministry.exams,
        subject="تأخر النتائج",
        description="لم تظهر نتيجة ابني في نظام نور حتى الآن",
        entity=ministry.riyadh_office,
    )
    assert request.entity == ministry.riyadh
    assert len(request.tracking_number) == 11
    assert request.events.get().kind == "submitted"

"""Request services: each action, its event, its errors, and nothing half-written."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings

from tawasul.beneficiaries.models import Beneficiary
from tawasul.beneficiaries.services import beneficiary_register
from tawasul.cases import services as svc
from tawasul.cases.attachments import attachment_check
from tawasul.cases.models import Attachment, Event, EventKind, Message, Request, Status
from tawasul.channels.models import OutboxMessage
from tawasul.core.errors import AccessDenied, Conflict, IllegalTransition, InvalidInput, NotFound
from tawasul.directory import access

from .conftest import luhn_complete

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def submit(ministry, beneficiary, **overrides):
    fields = {
        "beneficiary": beneficiary,
        "kind": "complaint",
        "category": ministry.exams,
        "subject": "تأخر نتيجة الاختبار",
        "description": "لم تظهر نتيجة ابني في نظام نور حتى الآن رغم انتهاء الفصل الدراسي.",
        "entity": ministry.riyadh,
    }
    return svc.request_submit(**{**fields, **overrides})


def kinds(request):
    return list(request.events.values_list("kind", flat=True))


def counts():
    return (
        Request.objects.count(),
        Event.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        OutboxMessage.objects.count(),
    )


class TestSubmit:
    def test_submission_is_routed_to_the_nearest_centre_and_acknowledged(self, ministry, sara):
        request = submit(ministry, sara, entity=ministry.riyadh_office)
        assert request.entity == ministry.riyadh  # the office has no centre of its own
        assert request.status == Status.NEW
        assert kinds(request) == [EventKind.SUBMITTED]
        assert request.events.get().by_beneficiary
        assert OutboxMessage.objects.get(request=request).template == "acknowledgement"

    def test_no_entity_chosen_goes_to_the_central_centre_for_triage(self, ministry, sara):
        assert submit(ministry, sara, entity=None).entity == ministry.ministry

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"kind": "rumour"}, "choice"),
            ({"channel": "fax"}, "choice"),
            ({"category": None}, "category_required"),
            ({"category": 999_999}, "category_unknown"),
            ({"kind": "complaint", "category": "praise_only"}, "category_kind"),
            ({"entity": 999_999}, "entity_unknown"),
            ({"subject": "ab"}, "length"),
            ({"description": "قصير"}, "length"),
            ({"description": "ن" * 5001}, "length"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(self, ministry, sara, overrides, code):
        if overrides.get("category") == "praise_only":
            overrides["category"] = ministry.praise_only
        before = counts()
        with pytest.raises(InvalidInput) as error:
            submit(ministry, sara, **overrides)
        assert error.value.code == code
        assert error.value.status == 422
        assert counts() == before

    def test_attachments_are_checked_by_their_bytes(self, ministry, sara):
        good = attachment_check(name="كشف الدرجات.pdf", content=PDF)
        assert good.content_type == "application/pdf"
        request = submit(
            ministry, sara, attachments=[good, attachment_check(name="x.png", content=PNG)]
        )
        stored = list(request.attachments.order_by("id"))
        assert [a.content_type for a in stored] == ["application/pdf", "image/png"]
        assert stored[0].file.read() == PDF
        assert stored[0].original_name == "كشف الدرجات.pdf"

    def test_a_text_file_named_pdf_is_refused(self):
        with pytest.raises(InvalidInput) as error:
            attachment_check(name="grades.pdf", content=b"just some text, not a PDF at all")
        assert error.value.code == "file_type"

    @override_settings(TAWASUL_ATTACHMENT_MAX_BYTES=1024)
    def test_a_file_over_the_limit_is_refused_whatever_it_claims(self):
        with pytest.raises(InvalidInput) as error:
            attachment_check(name="big.pdf", content=PDF + b"0" * 2048)
        assert error.value.code == "file_too_large"
        with pytest.raises(InvalidInput):
            attachment_check(name="empty.pdf", content=b"")

    def test_submission_is_atomic_when_a_later_step_fails(self, ministry, sara, monkeypatch):
        from tawasul.cases import services

        def broken_notify(**kwargs):
            raise RuntimeError("gateway exploded")

        monkeypatch.setattr(services, "notify_beneficiary", broken_notify)
        before = counts()
        with pytest.raises(RuntimeError):
            submit(ministry, sara, attachments=[attachment_check(name="a.pdf", content=PDF)])
        assert counts() == before

    def test_staff_taking_a_call_must_be_staff(self, ministry, staff, sara):
        request = submit(ministry, sara, channel="call_centre", by=staff.central_agent)
        assert request.events.get().actor_user == staff.central_agent
        with pytest.raises(AccessDenied):
            submit(ministry, sara, channel="call_centre", by=staff.outsider)


class TestLifecycle:
    def test_the_whole_happy_path_writes_one_event_per_step(self, ministry, staff, sara):
        agent = staff.riyadh_agent
        request = submit(ministry, sara)
        request = svc.request_claim(request=request, by=agent)
        assert (request.status, request.assignee) == (Status.ASSIGNED, agent)
        request = svc.request_start(request=request, by=agent)
        request = svc.request_ask_beneficiary(request=request, by=agent, question="ما اسم المدرسة؟")
        assert request.status == Status.AWAITING_BENEFICIARY
        assert request.first_response_at is not None
        svc.request_beneficiary_reply(request=request, beneficiary=sara, body="مدرسة الفيصلية")
        request.refresh_from_db()
        assert request.status == Status.IN_PROGRESS
        svc.request_note(request=request, by=agent, body="تواصلت مع المدرسة هاتفيا")
        request = svc.request_answer(
            request=request,
            by=agent,
            resolution="تم رصد الدرجة وتظهر الآن في نظام نور.",
            resolution_code="fixed",
        )
        assert request.status == Status.ANSWERED
        request = svc.request_accept(request=request, beneficiary=sara)
        assert request.status == Status.CLOSED
        assert request.closed_at is not None
        assert kinds(request) == [
            "submitted",
            "claimed",
            "started",
            "info_requested",
            "sla_paused",
            "beneficiary_replied",
            "sla_resumed",
            "note_added",
            "answered",
            "accepted",
        ]
        # internal steps stay out of the beneficiary's timeline
        public = list(request.events.filter(is_public=True).values_list("kind", flat=True))
        assert "note_added" not in public
        assert "claimed" not in public
        assert Message.objects.filter(request=request, visibility="internal").count() == 1
        templates = list(
            OutboxMessage.objects.filter(request=request).values_list("template", flat=True)
        )
        assert templates == [
            "acknowledgement",
            "info_requested",
            "answered",
            "survey_invitation",
        ]

    def test_objection_then_reopen_then_rejected_objection(self, ministry, staff, sara):
        agent, supervisor = staff.riyadh_agent, staff.riyadh_supervisor
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=agent)
        svc.request_start(request=request, by=agent)
        svc.request_answer(request=request, by=agent, resolution="النتيجة صحيحة ولا يوجد خطأ.")
        request = svc.request_object(
            request=request,
            beneficiary=sara,
            reason="النتيجة لا تطابق ما حصل عليه ابني في الاختبار.",
        )
        assert request.status == Status.OBJECTED
        with pytest.raises(AccessDenied):
            svc.request_reopen(request=request, by=agent, reason="يعاد فتحه")
        request = svc.request_reopen(request=request, by=supervisor, reason="الاعتراض مقبول")
        assert (request.status, request.answered_at) == (Status.IN_PROGRESS, None)
        svc.request_answer(request=request, by=agent, resolution="تمت مراجعة الورقة وتصحيح الدرجة.")
        svc.request_object(
            request=request, beneficiary=sara, reason="ما زلت غير راض عن الإجابة المقدمة."
        )
        request = svc.request_reject_objection(
            request=request, by=supervisor, justification="راجعت اللجنة الورقة والدرجة صحيحة."
        )
        assert request.status == Status.CLOSED
        assert kinds(request)[-2:] == ["objected", "objection_rejected"]

    def test_answered_request_closes_on_expiry(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        svc.request_start(request=request, by=staff.riyadh_agent)
        svc.request_answer(
            request=request, by=staff.riyadh_agent, resolution="تمت معالجة الطلب بنجاح."
        )
        request = svc.request_close_on_expiry(request=request)
        assert request.status == Status.CLOSED
        assert kinds(request)[-1] == "closed_on_expiry"

    def test_an_illegal_transition_changes_nothing(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        before = counts()
        with pytest.raises(IllegalTransition) as error:
            svc.request_answer(
                request=request, by=staff.riyadh_agent, resolution="إجابة مبكرة جدا هنا."
            )
        assert error.value.messages()["en"].startswith("This action is not possible")
        request.refresh_from_db()
        assert (request.status, request.resolution, request.answered_at) == (
            Status.ASSIGNED,
            "",
            None,
        )
        assert counts() == before

    def test_a_claimed_request_cannot_be_claimed_again(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        with pytest.raises(Conflict):
            svc.request_claim(request=request, by=staff.riyadh_agent2)
        request.refresh_from_db()
        assert request.assignee == staff.riyadh_agent

    def test_only_the_assignee_or_a_supervisor_works_an_assigned_request(
        self, ministry, staff, sara
    ):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        with pytest.raises(AccessDenied):
            svc.request_start(request=request, by=staff.riyadh_agent2)
        assert (
            svc.request_start(request=request, by=staff.riyadh_supervisor).status
            == Status.IN_PROGRESS
        )

    def test_assign_needs_a_supervisor_and_an_assignee_in_scope(self, ministry, staff, sara):
        request = submit(ministry, sara)
        with pytest.raises(AccessDenied):
            svc.request_assign(request=request, assignee=staff.riyadh_agent2, by=staff.riyadh_agent)
        with pytest.raises(InvalidInput) as error:
            svc.request_assign(
                request=request, assignee=staff.makkah_agent, by=staff.riyadh_supervisor
            )
        assert error.value.code == "assignee_out_of_scope"
        request = svc.request_assign(
            request=request, assignee=staff.riyadh_agent2, by=staff.riyadh_supervisor
        )
        assert (request.status, request.assignee) == (Status.ASSIGNED, staff.riyadh_agent2)

    def test_reply_is_public_and_counts_as_first_response(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        message = svc.request_reply(request=request, by=staff.riyadh_agent, body="نعمل على طلبك.")
        request.refresh_from_db()
        assert message.visibility == "public"
        assert request.first_response_at is not None
        assert request.status == Status.ASSIGNED
        with pytest.raises(InvalidInput):
            svc.request_reply(request=request, by=staff.riyadh_agent, body="   ")


class TestForwarding:
    def test_forward_moves_the_request_out_of_the_old_centres_reach(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_claim(request=request, by=staff.riyadh_agent)
        request = svc.request_forward(
            request=request,
            by=staff.riyadh_agent,
            to_entity=ministry.makkah,
            reason="المدرسة تتبع تعليم مكة",
        )
        assert (request.entity, request.assignee, request.status) == (
            ministry.makkah,
            None,
            Status.NEW,
        )
        assert request.transfer_count == 1
        assert not access.requests_for(staff.riyadh_agent).filter(pk=request.pk).exists()
        assert access.requests_for(staff.makkah_agent).filter(pk=request.pk).exists()
        with pytest.raises(NotFound):
            svc.request_claim(request=request, by=staff.riyadh_agent)

    def test_receiving_centre_returns_a_misrouted_request(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_forward(
            request=request,
            by=staff.riyadh_agent,
            to_entity=ministry.makkah,
            reason="المدرسة تتبع تعليم مكة",
        )
        request = svc.request_return(
            request=request, by=staff.makkah_agent, reason="المدرسة في الرياض"
        )
        assert request.entity == ministry.riyadh
        assert request.transfer_count == 2
        assert kinds(request)[-1] == "returned"
        with pytest.raises(InvalidInput) as error:
            svc.request_return(request=request, by=staff.riyadh_agent, reason="مرة أخرى")
        assert error.value.code == "not_forwarded"

    @override_settings(TAWASUL_MAX_TRANSFERS=2)
    def test_transfers_are_capped(self, ministry, staff, sara):
        request = submit(ministry, sara)
        svc.request_forward(
            request=request, by=staff.riyadh_agent, to_entity=ministry.makkah, reason="سبب أول"
        )
        svc.request_forward(
            request=request, by=staff.makkah_agent, to_entity=ministry.university, reason="سبب ثان"
        )
        with pytest.raises(Conflict) as error:
            svc.request_forward(
                request=request,
                by=staff.university_agent,
                to_entity=ministry.riyadh,
                reason="سبب ثالث",
            )
        assert error.value.code == "too_many_transfers"
        request.refresh_from_db()
        assert request.entity == ministry.university

    def test_forward_to_the_same_entity_is_refused(self, ministry, staff, sara):
        request = submit(ministry, sara)
        with pytest.raises(InvalidInput):
            svc.request_forward(
                request=request,
                by=staff.riyadh_agent,
                to_entity=ministry.riyadh_office,
                reason="نفس الجهة",
            )


class TestCancel:
    def test_beneficiary_withdraws_their_own_request(self, ministry, sara):
        request = svc.request_cancel(
            request=submit(ministry, sara), beneficiary=sara, reason="تم حل المشكلة"
        )
        assert (request.status, request.cancel_reason) == (Status.CANCELLED, "تم حل المشكلة")

    def test_another_beneficiary_cannot_touch_it(self, ministry, sara, khalid):
        request = submit(ministry, sara)
        with pytest.raises(NotFound):
            svc.request_cancel(request=request, beneficiary=khalid, reason="ليس لي")
        with pytest.raises(NotFound):
            svc.request_accept(request=request, beneficiary=khalid)

    def test_agents_cannot_cancel_supervisors_can_and_reason_is_required(
        self, ministry, staff, sara
    ):
        request = submit(ministry, sara)
        with pytest.raises(AccessDenied):
            svc.request_cancel(request=request, by=staff.riyadh_agent, reason="مكرر")
        with pytest.raises(InvalidInput):
            svc.request_cancel(request=request, by=staff.riyadh_supervisor, reason="")
        svc.request_cancel(request=request, by=staff.riyadh_supervisor, reason="طلب مكرر")
        with pytest.raises(IllegalTransition):
            svc.request_cancel(request=request, by=staff.riyadh_supervisor, reason="مرة ثانية")


class TestEvents:
    def test_events_are_append_only(self, ministry, sara):
        event = submit(ministry, sara).events.get()
        with pytest.raises(TypeError):
            event.save()
        with pytest.raises(TypeError):
            event.delete()
        with pytest.raises(TypeError):
            Event.objects.filter(pk=event.pk).update(kind="answered")
        with pytest.raises(TypeError):
            Event.objects.filter(pk=event.pk).delete()


class TestBeneficiaries:
    def test_register_normalises_and_finds_by_national_id(self, db):
        nid = luhn_complete("100000003")
        first = beneficiary_register(
            full_name="  نورة   القحطاني ",
            national_id=nid.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            mobile="0501112233",
            consent=True,
        )
        assert (first.full_name, first.mobile, first.national_id) == (
            "نورة القحطاني",
            "+966501112233",
            nid,
        )
        assert first.consent_at is not None
        again = beneficiary_register(
            full_name="نورة القحطاني", national_id=nid, mobile="0509998877"
        )
        assert again.pk == first.pk
        assert again.mobile == "+966509998877"

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"national_id": "1000000000"}, "national_id_checksum"),
            ({"mobile": "0112345678"}, "mobile_invalid"),
            ({"mobile": "", "email": "not-an-email"}, "email_invalid"),
            ({"mobile": "", "email": ""}, "contact_missing"),
            ({"full_name": " "}, "name_invalid"),
            ({"kind": "alien"}, "kind_invalid"),
            ({"preferred_contact": "email"}, "contact_invalid"),
        ],
    )
    def test_bad_identity_is_refused_and_nothing_is_written(self, db, fields, code):
        data = {"full_name": "علي", "national_id": "1000000008", "mobile": "0551234567", **fields}
        with pytest.raises(InvalidInput) as error:
            beneficiary_register(**data)
        assert error.value.code == code
        assert Beneficiary.objects.count() == 0


def test_attachment_content_type_is_detected_not_trusted(ministry, sara):
    checked = attachment_check(name="photo.pdf", content=PNG)
    assert checked.content_type == "image/png"
    assert io.BytesIO(checked.content).read(4) == PNG[:4]

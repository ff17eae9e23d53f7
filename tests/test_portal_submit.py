"""Sending a request from the portal: the three-step form, its checks, and the confirmation."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tawasul.beneficiaries.models import ContactChannel
from tawasul.beneficiaries.services import beneficiary_contact_set, beneficiary_register
from tawasul.cases.models import Attachment, Category, Event, Kind, Request
from tawasul.cases.services import request_submit
from tawasul.channels.models import OutboxChannel, OutboxMessage
from tawasul.core.errors import InvalidInput
from tawasul.directory.models import Entity, EntityKind
from tawasul.portal.session import BENEFICIARY_KEY

from .conftest import luhn_complete

NEW_URL = "/en/requests/new/"


def tiny_pdf(padding: int = 0) -> bytes:
    """A small valid PDF (one empty page); `padding` bytes of comment make it larger."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n" % (len(objects) + 1, xref)
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    out += b"%%EOF\n"
    return bytes(out)


def pdf_upload(name: str = "report.pdf", padding: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_pdf(padding), content_type="application/pdf")


def sign_in(client, beneficiary) -> None:
    session = client.session
    session[BENEFICIARY_KEY] = beneficiary.pk
    session.save()


def valid_data(ministry, **overrides) -> dict:
    data = {
        "kind": Kind.COMPLAINT,
        "entity": str(ministry.riyadh.pk),
        "category": str(ministry.exams.pk),
        "subject": "Exam result not shown",
        "description": "My son's final exam result has not appeared in Noor yet.",
        "preferred_contact": ContactChannel.SMS,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def written_counts() -> dict[str, int]:
    return {
        "requests": Request.objects.count(),
        "events": Event.objects.count(),
        "attachments": Attachment.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def field_errors(page: str, field: str) -> str:
    """The text of the error list attached to `field` (empty when it has none)."""
    match = re.search(rf'<ul class="field__errors" id="id_{field}_error">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


class SelectParser(HTMLParser):
    """The options of each <select>: (group label or None, value, text, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: dict[str, list[tuple[str | None, str, str, dict]]] = {}
        self._select: str | None = None
        self._group: str | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "select":
            self._select = attributes["name"]
            self.selects[self._select] = []
        elif tag == "optgroup":
            self._group = attributes["label"]
        elif tag == "option" and self._select:
            self._option = {**attributes, "_text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["_text"] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select:
            option = self._option
            self.selects[self._select].append(
                (self._group, option.get("value", ""), option["_text"].strip(), option)
            )
            self._option = None
        elif tag == "optgroup":
            self._group = None
        elif tag == "select":
            self._select = None


def options_of(page: str, name: str):
    parser = SelectParser()
    parser.feed(page)
    return parser.selects[name]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def signed_in_sara(client, sara):
    sign_in(client, sara)
    return sara


@pytest.fixture
def layla(db):
    """A teacher with both a mobile and an e-mail address, who prefers SMS."""
    return beneficiary_register(
        full_name="Layla Haddad",
        national_id=luhn_complete("100000003"),
        mobile="0557654321",
        email="layla@example.com",
        kind="teacher",
        language="en",
        preferred_contact="sms",
        consent=True,
    )


# --- the form -------------------------------------------------------------------------------


def test_form_shows_three_steps_in_one_form(client, ministry, signed_in_sara):
    # When a signed-in beneficiary opens the new-request page
    response = client.get(NEW_URL)

    # Then there is one multipart form with the three steps and a send button
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<form class="wizard"') == 1
    assert 'enctype="multipart/form-data"' in page
    for step in ("1", "2", "3"):
        assert f'data-step="{step}"' in page
    assert "Step 1 of 3" in page
    assert "Step 3 of 3" in page
    assert 'type="submit"' in page
    # And the five kinds, each with its one-line explanation
    for kind in Kind:
        assert f'value="{kind.value}"' in page
    assert "Thank a teacher, a school or an employee" in page
    # And the script is a file of our own, never inline
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/portal/submit.js" defer>']
    assert " style=" not in page
    assert " onclick=" not in page


def test_entities_are_grouped_by_kind_with_i_dont_know_first(client, ministry, signed_in_sara):
    # Given an inactive department, and an office below it
    closed = Entity.objects.add_child(
        ministry.sector,
        instance=Entity(
            code="closed-region",
            name_ar="إدارة مغلقة",
            name_en="Closed Education",
            kind=EntityKind.REGION,
            is_active=False,
        ),
    )
    Entity.objects.add_child(
        closed,
        instance=Entity(
            code="closed-office", name_ar="مكتب", name_en="Closed Office", kind=EntityKind.OFFICE
        ),
    )

    # When the form is shown
    options = options_of(client.get(NEW_URL).content.decode(), "entity")

    # Then the first choice lets the ministry route it
    assert options[0][:3] == (None, "", "I don't know — let the ministry route it")
    # And entities come grouped: regions, universities, sectors, offices
    groups = {text: group for group, _value, text, _attrs in options[1:]}
    assert groups == {
        "Makkah Education": "Regional education departments",
        "Riyadh Education": "Regional education departments",
        "King Saud University": "Universities",
        "General Education": "Ministry sectors",
        "North Riyadh Office": "Education offices",
    }
    order = list(dict.fromkeys(group for group, *_rest in options[1:]))
    assert order == [
        "Regional education departments",
        "Universities",
        "Ministry sectors",
        "Education offices",
    ]
    # And the ministry itself and the inactive branch are not offered
    assert "Ministry of Education" not in groups
    assert "Closed Education" not in groups
    assert "Closed Office" not in groups


def test_categories_show_two_levels_and_the_kinds_each_takes(client, ministry, signed_in_sara):
    # Given a sub-category under "Exam results", and an inactive category
    Category.objects.add_child(
        ministry.exams,
        instance=Category(code="exams-late", name_ar="تأخر النتائج", name_en="Late results"),
    )
    Category.objects.add_root(
        instance=Category(code="old", name_ar="قديم", name_en="Retired topic", is_active=False)
    )

    # When the form is shown
    options = options_of(client.get(NEW_URL).content.decode(), "category")

    # Then a category with sub-categories is a group holding itself and its children
    by_text = {text: (group, attrs) for group, _value, text, attrs in options if _value}
    assert by_text["Exam results"][0] == "Exam results"
    assert by_text["Late results"][0] == "Exam results"
    # And one without children stands alone
    assert by_text["Teacher transfer"][0] is None
    # And each option says which kinds it takes ("" for every kind)
    assert by_text["Teacher transfer"][1]["data-kinds"] == "inquiry complaint"
    assert by_text["Thanks"][1]["data-kinds"] == "praise"
    assert by_text["Exam results"][1]["data-kinds"] == ""
    # And inactive categories are not offered
    assert "Retired topic" not in by_text


def test_preferred_contact_offers_only_the_channels_with_an_address(client, ministry, sara):
    # Given Sara, who has a mobile and no e-mail address
    sign_in(client, sara)

    # When she opens the form
    page = client.get(NEW_URL).content.decode()

    # Then only SMS is offered, to her masked mobile, and it is chosen
    assert re.search(r'name="preferred_contact" value="sms"[^>]*checked', page)
    assert 'name="preferred_contact" value="email"' not in page
    assert sara.masked_mobile in page
    assert sara.mobile not in page


# --- sending -----------------------------------------------------------------------------


def test_valid_request_is_recorded_acknowledged_and_confirmed(
    client, ministry, signed_in_sara, media
):
    # When Sara sends a complaint to Riyadh with a PDF
    response = client.post(
        NEW_URL, {**valid_data(ministry), "attachments": [pdf_upload("result.pdf")]}
    )

    # Then one request is recorded for her, at Riyadh
    submitted = Request.objects.get()
    assert submitted.beneficiary == signed_in_sara
    assert submitted.entity == ministry.riyadh
    assert submitted.category == ministry.exams
    assert submitted.kind == Kind.COMPLAINT
    assert submitted.channel == "portal"
    # And she is sent to its confirmation page
    assert response.status_code == 302
    assert response["Location"] == f"/en/requests/{submitted.tracking_number}/submitted/"
    # And one acknowledgement waits in the outbox, by SMS
    acknowledgement = OutboxMessage.objects.get(request=submitted)
    assert acknowledgement.template == "acknowledgement"
    assert acknowledgement.channel == OutboxChannel.SMS
    # And the file is stored with the type found in its bytes
    attachment = Attachment.objects.get(request=submitted)
    assert attachment.original_name == "result.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.from_beneficiary
    assert attachment.file.read() == tiny_pdf()


def test_i_dont_know_sends_the_request_to_the_central_centre(client, ministry, signed_in_sara):
    response = client.post(NEW_URL, valid_data(ministry, entity=""))

    assert response.status_code == 302
    assert Request.objects.get().entity == ministry.ministry


def test_an_office_without_a_centre_is_served_by_its_department(client, ministry, signed_in_sara):
    client.post(NEW_URL, valid_data(ministry, entity=str(ministry.riyadh_office.pk)))

    assert Request.objects.get().entity == ministry.riyadh


def test_five_files_are_accepted(client, ministry, signed_in_sara, media):
    files = [pdf_upload(f"page-{number}.pdf") for number in range(5)]

    response = client.post(NEW_URL, {**valid_data(ministry), "attachments": files})

    assert response.status_code == 302
    assert Attachment.objects.count() == 5


def test_choosing_e_mail_changes_the_contact_and_the_acknowledgement(client, ministry, layla):
    # Given Layla, who prefers SMS but also has an e-mail address
    sign_in(client, layla)

    # When she sends a request and asks to be contacted by e-mail
    response = client.post(NEW_URL, valid_data(ministry, preferred_contact="email"))

    # Then her preference is e-mail from now on, and the acknowledgement goes there
    assert response.status_code == 302
    layla.refresh_from_db()
    assert layla.preferred_contact == ContactChannel.EMAIL
    acknowledgement = OutboxMessage.objects.get()
    assert acknowledgement.channel == OutboxChannel.EMAIL
    assert acknowledgement.recipient == "layla@example.com"


TOO_LONG = "x" * 5001


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("subject", {"subject": None}, "This field is required."),
        ("subject", {"subject": "ab"}, "at least 3 characters"),
        ("description", {"description": "Too short"}, "at least 10 characters"),
        ("description", {"description": TOO_LONG}, "at most 5000 characters"),
        ("kind", {"kind": "rumour"}, "Select a valid choice."),
        ("category", {"category": "999999"}, "Select a valid choice."),
        ("category", {"category": None}, "This field is required."),
        ("entity", {"entity": "999999"}, "Select a valid choice."),
        ("preferred_contact", {"preferred_contact": "email"}, "Select a valid choice."),
    ],
    ids=[
        "missing-subject",
        "short-subject",
        "short-description",
        "long-description",
        "unknown-kind",
        "unknown-category",
        "no-category",
        "unknown-entity",
        "contact-without-address",
    ],
)
@pytest.mark.usefixtures("signed_in_sara")
def test_invalid_fields_are_refused_and_nothing_is_written(
    client, ministry, field, overrides, message
):
    # Given nothing written yet
    before = written_counts()

    # When the form is sent with one field wrong
    response = client.post(NEW_URL, valid_data(ministry, **overrides))

    # Then the form comes back with the message on that field
    page = response.content.decode()
    assert response.status_code == 400
    assert message in field_errors(page, field)
    assert 'id="error-summary"' in page
    # And nothing was written
    assert written_counts() == before


def test_category_not_taking_the_kind_is_refused_on_its_field(client, ministry, layla):
    # Given Layla, who prefers SMS, signed in
    sign_in(client, layla)
    before = written_counts()

    # When she sends a complaint under the praise-only category, asking for e-mail
    response = client.post(
        NEW_URL,
        valid_data(ministry, category=str(ministry.praise_only.pk), preferred_contact="email"),
    )

    # Then the category field says why
    assert response.status_code == 400
    assert "This category does not take this kind of request." in field_errors(
        response.content.decode(), "category"
    )
    # And nothing was written: not the request, nor her new contact preference
    assert written_counts() == before
    layla.refresh_from_db()
    assert layla.preferred_contact == ContactChannel.SMS


@pytest.mark.parametrize(
    ("make_files", "message"),
    [
        (
            lambda: [SimpleUploadedFile("notes.pdf", b"plain text pretending to be a PDF" * 10)],
            "notes.pdf: This type of file is not accepted.",
        ),
        (lambda: [pdf_upload(f"page-{n}.pdf") for n in range(6)], "Attach at most 5 files."),
        (lambda: [SimpleUploadedFile("empty.pdf", b"")], "The submitted file is empty."),
    ],
    ids=["text-named-pdf", "six-files", "empty-file"],
)
@pytest.mark.usefixtures("signed_in_sara")
def test_bad_attachments_are_refused_and_nothing_is_written(
    client, ministry, media, make_files, message
):
    before = written_counts()

    response = client.post(NEW_URL, {**valid_data(ministry), "attachments": make_files()})

    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "attachments")
    assert written_counts() == before
    assert not media.exists() or not any(media.rglob("*.pdf"))


def test_a_file_over_the_limit_gets_a_clear_message_not_an_error(
    client, ministry, signed_in_sara, media, settings
):
    # Given a 1 MB limit, and a PDF of 3 MB (beyond what Django keeps in memory)
    settings.TAWASUL_ATTACHMENT_MAX_BYTES = 1 << 20
    large = pdf_upload("scan.pdf", padding=3 << 20)
    assert large.size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    before = written_counts()

    # When it is sent
    response = client.post(NEW_URL, {**valid_data(ministry), "attachments": [large]})

    # Then the form says the file is too large, on the attachments field
    assert response.status_code == 400
    assert "scan.pdf: The file is too large: at most 1.0 MB is accepted." in field_errors(
        response.content.decode(), "attachments"
    )
    assert written_counts() == before


def test_the_form_keeps_what_was_typed_when_sent_back(client, ministry, signed_in_sara):
    response = client.post(NEW_URL, valid_data(ministry, description="short"))

    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="Exam result not shown"' in page
    assert re.search(rf'<option value="{ministry.riyadh.pk}"[^>]*selected', page)
    assert 'aria-describedby="id_description_helptext id_description_error"' in page
    assert 'aria-invalid="true"' in page


# --- who may send -------------------------------------------------------------------------


def test_not_signed_in_is_sent_to_sign_in_and_back(client, ministry):
    response = client.get(NEW_URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:signin')}?next={NEW_URL}"


def test_not_signed_in_cannot_send(client, ministry):
    response = client.post(NEW_URL, valid_data(ministry))

    assert response.status_code == 302
    assert Request.objects.count() == 0


# --- confirmation ---------------------------------------------------------------------------


@pytest.fixture
def saras_request(ministry, sara):
    return request_submit(
        beneficiary=sara,
        kind=Kind.COMPLAINT,
        category=ministry.exams,
        subject="Exam result not shown",
        description="My son's final exam result has not appeared yet.",
        entity=ministry.riyadh,
    )


def test_confirmation_shows_the_number_the_due_date_and_what_comes_next(
    client, saras_request, sara
):
    # Given Sara signed in, who has just sent a request
    sign_in(client, sara)

    # When she opens its confirmation page
    response = client.get(f"/en/requests/{saras_request.tracking_number}/submitted/")

    # Then the tracking number is shown large, grouped 3-4-4, left to right
    page = response.content.decode()
    assert response.status_code == 200
    number = saras_request.tracking_number
    grouped = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    assert re.search(rf'class="tracking__number" dir="ltr"[^>]*>{grouped}</strong>', page)
    # And the expected answer date, Gregorian and Hijri, and the time left
    assert saras_request.resolution_due is not None
    assert "Expected answer by:" in page
    assert "AH" in page.split("Expected answer by:")[1].split("</time>")[0]
    assert "left, due by" in page
    # And what happens next, the acknowledgement sent by SMS to her masked mobile
    assert "What happens next" in page
    assert "Riyadh Education" in page
    assert f'by SMS to <bdi dir="ltr">{sara.masked_mobile}</bdi>' in page
    # And a link to all her requests
    assert f'href="{reverse("portal:request_list")}"' in page


def test_confirmation_says_e_mail_for_someone_reached_by_e_mail(client, ministry, khalid):
    submitted = request_submit(
        beneficiary=khalid,
        kind=Kind.INQUIRY,
        category=ministry.exams,
        subject="Exam dates",
        description="When are the final exams held this year?",
    )
    sign_in(client, khalid)

    page = client.get(f"/en/requests/{submitted.tracking_number}/submitted/").content.decode()

    assert "acknowledgement by e-mail" in page


def test_someone_elses_confirmation_is_not_found(client, saras_request, khalid):
    sign_in(client, khalid)

    response = client.get(f"/en/requests/{saras_request.tracking_number}/submitted/")

    assert response.status_code == 404


@pytest.mark.parametrize("tracking", ["12345678901", "abc", "48293105726x"])
def test_a_malformed_or_unknown_number_is_not_found(client, signed_in_sara, tracking):
    response = client.get(f"/en/requests/{tracking}/submitted/")

    assert response.status_code == 404


def test_confirmation_needs_sign_in(client, saras_request):
    url = f"/en/requests/{saras_request.tracking_number}/submitted/"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:signin"))


def test_arabic_pages_are_right_to_left(client, ministry, saras_request, sara):
    sign_in(client, sara)

    form = client.get("/requests/new/").content.decode()
    confirmation = client.get(
        f"/requests/{saras_request.tracking_number}/submitted/"
    ).content.decode()

    assert '<html lang="ar" dir="rtl">' in form
    assert 'dir="ltr"' in confirmation.split('class="tracking__number"')[1][:20]


# --- the contact service ------------------------------------------------------------------


def test_contact_set_needs_the_address_of_the_channel(sara):
    with pytest.raises(InvalidInput) as raised:
        beneficiary_contact_set(beneficiary=sara, preferred_contact=ContactChannel.EMAIL)

    assert raised.value.details == {"field": "preferred_contact"}
    sara.refresh_from_db()
    assert sara.preferred_contact == ContactChannel.SMS


def test_contact_set_refuses_an_unknown_channel(layla):
    with pytest.raises(InvalidInput):
        beneficiary_contact_set(beneficiary=layla, preferred_contact="fax")


def test_contact_set_changes_the_preference(layla):
    beneficiary_contact_set(beneficiary=layla, preferred_contact=ContactChannel.EMAIL)

    layla.refresh_from_db()
    assert layla.preferred_contact == ContactChannel.EMAIL


def test_arabic_pages_have_no_english_left(client, ministry, saras_request, sara):
    """Fails until the Arabic catalogue has this part's strings (the lead adds them)."""
    sign_in(client, sara)

    form = client.get("/requests/new/").content.decode()
    confirmation = client.get(
        f"/requests/{saras_request.tracking_number}/submitted/"
    ).content.decode()

    for english in ("Send a request", "Step 1 of 3", "Which entity is it about?", "Next"):
        assert english not in form
    for english in ("Your tracking number", "What happens next", "Expected answer by"):
        assert english not in confirmation

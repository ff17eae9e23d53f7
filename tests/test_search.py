"""Searching requests by what they say (decision 0011), on SQLite and PostgreSQL alike.

Every spelling variant of a word finds the request, through the console's queue
filter and the staff API's `q` (both go through `queue_filter`); words must all occur
(AND), anywhere in the subject, description or thread; odd characters never break the
query; the access layer still decides what may be found.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test import Client
from django.urls import reverse

from tawasul.api.credentials import personal_token_create
from tawasul.api.models import Scope
from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as svc
from tawasul.cases.models import Kind, Request
from tawasul.cases.queues import QueueFilters, queue_filter
from tawasul.cases.search import FTS_TABLE, search_text_of, search_words
from tawasul.core.ids import tracking_number_display
from tests.conftest import Ministry, Staff

pytestmark = pytest.mark.django_db

DESCRIPTION = "أرجو النظر في الطلب المرفق وإفادتي بالإجراء المتبع."


def submit(
    ministry: Ministry, who: Beneficiary, subject: str, description: str = DESCRIPTION
) -> Request:
    return svc.request_submit(
        beneficiary=who,
        kind=Kind.COMPLAINT,
        category=ministry.exams,
        subject=subject,
        description=description,
        entity=ministry.riyadh,
    )


def console(client: Client, q: str) -> set[str]:
    response = client.get(reverse("console:queue", args=["subtree"]), {"q": q})
    assert response.status_code == 200
    return {row.tracking_number for row, _badge in response.context["rows"]}


def api(user: Any, q: str) -> set[str]:
    secret = personal_token_create(user=user, name="tool", scopes=[Scope.REQUESTS_READ]).secret
    response = Client().get(
        "/api/v1/staff/requests", {"q": q}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200, response.content
    return {row["tracking_number"] for row in response.json()["results"]}


def found(q: str) -> set[str]:
    """What the queue filter finds among all requests (no access layer: the filter alone)."""
    chosen = queue_filter(Request.objects.all(), QueueFilters(q=q))
    return set(chosen.values_list("tracking_number", flat=True))


@pytest.fixture
def agent(client: Client, staff: Staff) -> Client:
    client.force_login(staff.riyadh_agent)
    return client


# --- spelling variants --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("أسئلة الاختبار النهائي", "اسئلة"),  # hamza on alef, written
        ("اسئلة الاختبار النهائي", "أسئلة"),  # ... typed
        ("إدارة التعليم بالرياض", "ادارة"),  # alef with hamza below
        ("ادارة التعليم بالرياض", "إدارة"),
        ("آلية التسجيل في المدارس", "الية"),  # alef madda
        ("ٱلتسجيل في المدارس", "التسجيل"),  # alef wasla
        ("تأخر صرف المكافأة الشهرية", "المكافاه"),  # ta marbuta as ha
        ("تأخر صرف المكافاه الشهريه", "المكافأة"),  # ... and the other way
        ("رفع مستوى الخدمة", "مستوي"),  # alef maqsura as ya
        ("رفع مستوي الخدمة", "مستوى"),
        ("مُعَلِّمُ الرِّيَاضِيَّاتِ غائب", "معلم"),  # diacritics written
        ("معلم الرياضيات غائب", "مُعَلِّم"),  # ... typed
        ("تــأخــر رصد الدرجات", "تأخر"),  # tatweel written
        ("تأخر رصد الدرجات", "تــأخــر"),  # ... typed
        ("الخدمة بطيئة جداااا هذا الأسبوع", "جدا"),  # elongation written
        ("الخدمة بطيئة جدا هذا الأسبوع", "جداااااا"),  # ... typed
        ("نتائج دفعة ٢٠٢٦ لم تظهر", "2026"),  # Arabic-Indic digits written
        ("نتائج دفعة 2026 لم تظهر", "٢٠٢٦"),  # ... typed
        ("نتائج دفعة 2026 لم تظهر", "۲۰۲۶"),  # Persian digits typed
        ("رسالة من مسؤول المدرسة", "مسوول"),  # hamza on waw
        ("تعبئة النموذج في نظام نور", "تعبيه"),  # hamza on ya, ta marbuta
        ("Noor system shows no grades", "NOOR"),  # Latin case
    ],
)
def test_each_spelling_variant_finds_the_request(
    agent: Client, ministry: Ministry, sara: Beneficiary, written: str, typed: str
) -> None:
    # Given a request written one way, and another that does not say it
    request = submit(ministry, sara, written)
    submit(ministry, sara, "طلب شهادة خبرة")

    # When an agent types the word another way, Then exactly that request is found
    assert console(agent, typed) == {request.tracking_number}


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("شكوى بشأن والطلاب المتأخرين", "الطلاب"),  # و prefix
        ("شكوى بشأن الطلاب المتأخرين", "طلاب"),  # ال prefix
        ("التحقت بالمدرسة الثانوية", "مدرسة"),  # بال prefix
        ("مكافأة للمعلمين الجدد", "معلمين"),  # لل prefix
        ("سبب التأخير في الرد", "تأخير"),  # a longer word holding it
        ("تأخر المعلمين عن الحصص", "المعلم"),  # a plural holding the singular
    ],
)
def test_words_with_clitics_and_plurals_are_found(
    agent: Client, ministry: Ministry, sara: Beneficiary, written: str, typed: str
) -> None:
    request = submit(ministry, sara, written)
    assert console(agent, typed) == {request.tracking_number}


# --- what is searched -----------------------------------------------------------------------


def test_the_description_is_searched(agent: Client, ministry: Ministry, sara: Beneficiary) -> None:
    request = submit(ministry, sara, "استفسار", "لم يظهر اسم ابني في كشوف المقبولين بالجامعة")
    assert console(agent, "كشوف المقبولين") == {request.tracking_number}


def test_a_word_in_a_later_staff_reply_is_found(
    agent: Client, ministry: Ministry, sara: Beneficiary, staff: Staff
) -> None:
    # Given a request that does not mention a word
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    assert console(agent, "الكنترول") == set()

    # When the agent's reply mentions it
    svc.request_claim(request=request, by=staff.riyadh_agent)
    svc.request_reply(request=request, by=staff.riyadh_agent, body="تمت مخاطبة الكنترول المركزي")

    # Then the request is found by it
    assert console(agent, "الكنترول") == {request.tracking_number}


def test_a_word_in_the_beneficiarys_reply_is_found(
    agent: Client, ministry: Ministry, sara: Beneficiary
) -> None:
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    svc.request_beneficiary_reply(
        request=request, beneficiary=sara, body="أرفقت صورة الشهادة المصدّقة"
    )
    assert console(agent, "المصدقه") == {request.tracking_number}


def test_an_internal_note_is_searched_by_staff(
    agent: Client, ministry: Ministry, sara: Beneficiary, staff: Staff
) -> None:
    # Notes are read by everyone who may view the request (Permission.VIEW), and only
    # staff search: a note's words find the request.
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    svc.request_note(request=request, by=staff.riyadh_agent, body="راجعت المشرف التربوي هاتفيا")
    assert console(agent, "المشرف التربوي") == {request.tracking_number}


def test_the_search_text_is_the_normalised_subject_description_and_thread(
    ministry: Ministry, sara: Beneficiary, staff: Staff
) -> None:
    request = submit(ministry, sara, "تأخُّر رصد الدرجات", "دفعة ٢٠٢٦ — Noor")
    svc.request_note(request=request, by=staff.riyadh_agent, body="تمّ التواصل")
    stored = Request.objects.get(pk=request.pk).search_text
    assert stored == "تاخر رصد الدرجات دفعه 2026 — noor تم التواصل"
    assert stored == search_text_of("تأخُّر رصد الدرجات", "دفعة ٢٠٢٦ — Noor", "تمّ التواصل")


def test_a_word_nowhere_finds_nothing(agent: Client, ministry: Ministry, sara: Beneficiary) -> None:
    submit(ministry, sara, "تأخر رصد الدرجات")
    assert console(agent, "الابتعاث") == set()


def test_every_word_must_occur(agent: Client, ministry: Ministry, sara: Beneficiary) -> None:
    # Given one request with both words and one with only the first
    both = submit(ministry, sara, "تأخر رصد درجات الرياضيات")
    first_only = submit(ministry, sara, "تأخر صرف المكافأة")

    # Then both words find the first alone; the first word finds both; an absent word, none
    assert console(agent, "تأخر الرياضيات") == {both.tracking_number}
    assert console(agent, "الرياضيات تأخر") == {both.tracking_number}
    assert console(agent, "تأخر") == {both.tracking_number, first_only.tracking_number}
    assert console(agent, "تأخر الابتعاث") == set()


def test_two_letter_words_count_and_single_letters_are_ignored(
    agent: Client, ministry: Ministry, sara: Beneficiary
) -> None:
    with_word = submit(ministry, sara, "طلب رد على الشكوى السابقة")
    without = submit(ministry, sara, "طلب نقل إلى مدرسة أخرى")
    assert console(agent, "طلب رد") == {with_word.tracking_number}  # "رد": two letters
    assert console(agent, "رد") == {with_word.tracking_number}
    # "و" and "ب" alone are ignored: the query is "طلب"
    assert console(agent, "و طلب ب") == {with_word.tracking_number, without.tracking_number}
    assert search_words("و طلب ب رد") == ["طلب", "رد"]


def test_a_tracking_number_still_finds_its_request(
    agent: Client, ministry: Ministry, sara: Beneficiary
) -> None:
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    submit(ministry, sara, "تأخر صرف المكافأة")
    typed = tracking_number_display(request.tracking_number)
    assert console(agent, typed) == {request.tracking_number}
    arabic_digits = typed.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert console(agent, arabic_digits) == {request.tracking_number}


# --- odd input ----------------------------------------------------------------------------


WEIRD = [
    '"',
    '"تأخر',
    'تأخر"',
    "%",
    "تأخر%",
    "_",
    "*",
    "تأخ*",
    "(",
    "(تأخر",
    ")",
    "NEAR",
    "NEAR(تأخر رصد)",
    "تأخر OR رصد",
    "تأخر AND",
    "NOT تأخر",
    "-تأخر",
    "^تأخر",
    "search_text:تأخر",
    "{search_text}: تأخر",
    "\\",
    "'",
    "';--",
    "تأخر\x00",
    "؟!،",
    "\u200f\u200c",
]


@pytest.mark.parametrize("q", WEIRD)
def test_odd_characters_never_break_the_search(
    agent: Client, staff: Staff, ministry: Ministry, sara: Beneficiary, q: str
) -> None:
    # Given two requests, one full of brackets and quotes
    requests = [
        submit(ministry, sara, 'تأخر رصد الدرجات (الفصل الأول) "عاجل" 100%'),
        submit(ministry, sara, "استفسار عن النقل"),
    ]
    # What should be found, worked out here: every word of the query in the request's text
    # (no word left: every request)
    texts = {r.tracking_number: search_text_of(r.subject, r.description) for r in requests}
    expected = {n for n, text in texts.items() if all(w in text for w in search_words(q))}

    # Then the queue filter, the console and the API find exactly that
    assert found(q) == expected
    if "\x00" not in q:  # a NUL is refused by the console's form and by the API (422)
        assert console(agent, q) == expected
        assert api(staff.riyadh_agent, q) == expected


def test_like_wildcards_are_taken_literally(
    agent: Client, ministry: Ministry, sara: Beneficiary
) -> None:
    # Given a request saying "a_c" and one saying "abc" (which `a_c` would match as LIKE)
    literal = submit(ministry, sara, "رمز الخطأ a_c في النظام")
    other = submit(ministry, sara, "رمز الخطأ abc في النظام")
    # and "100%" beside "1000"
    percent = submit(ministry, sara, "نسبة الحضور 100% مسجلة")

    assert console(agent, "a_c") == {literal.tracking_number}
    assert console(agent, "ab") == {other.tracking_number}
    assert console(agent, "100%") == {percent.tracking_number}  # the word "100"
    assert console(agent, "%الحضور%") == {percent.tracking_number}


def test_fts_operators_are_searched_as_words(
    agent: Client, ministry: Ministry, sara: Beneficiary
) -> None:
    near = submit(ministry, sara, "Bus stop NEAR the school is unsafe")
    other = submit(ministry, sara, "Bus stop far from the school")
    assert console(agent, "NEAR") == {near.tracking_number}
    assert console(agent, "bus OR near") == set()  # AND of three words, "or" is in neither
    assert console(agent, "stop NOT") == set()
    assert console(agent, "bus school") == {near.tracking_number, other.tracking_number}


# --- reach and the API --------------------------------------------------------------------


def test_another_entitys_request_is_never_found(
    client: Client, staff: Staff, ministry: Ministry, sara: Beneficiary
) -> None:
    # Given a Riyadh request
    request = submit(ministry, sara, "تأخر رصد درجات الرياضيات")

    # When Makkah's agent searches its words or its number, Then nothing is found
    client.force_login(staff.makkah_agent)
    for q in ("تأخر", "الرياضيات", tracking_number_display(request.tracking_number)):
        assert console(client, q) == set()
        assert api(staff.makkah_agent, q) == set()
    # while the ministry's supervisor finds it
    assert api(staff.central_supervisor, "الرياضيات") == {request.tracking_number}


@pytest.mark.parametrize(
    "q", ["تأخر", "تاخر الرياضيات", "المكافاه", "٢٠٢٦", "رد", "الابتعاث", '"(%', "و"]
)
def test_the_api_finds_what_the_console_finds(
    agent: Client, staff: Staff, ministry: Ministry, sara: Beneficiary, q: str
) -> None:
    submit(ministry, sara, "تأخر رصد درجات الرياضيات", "دفعة 2026، أرجو الرد")
    submit(ministry, sara, "تأخر صرف المكافأة")
    submit(ministry, sara, "طلب نقل")
    assert api(staff.riyadh_agent, q) == console(agent, q)


# --- keeping the index ----------------------------------------------------------------------


def test_reindex_rewrites_only_what_differs(
    ministry: Ministry, sara: Beneficiary, staff: Staff
) -> None:
    # Given a request whose search text was lost (rows written around the services)
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    svc.request_note(request=request, by=staff.riyadh_agent, body="راجعت الكنترول")
    kept = submit(ministry, sara, "طلب نقل")
    Request.objects.filter(pk=request.pk).update(search_text="")
    assert found("الكنترول") == set()

    # When the command runs
    out = StringIO()
    call_command("search_reindex", stdout=out)

    # Then that request alone was rewritten, and is found again
    assert out.getvalue().startswith("1 requests' search text rewritten")
    assert found("الكنترول") == {request.tracking_number}
    assert found("نقل") == {kept.tracking_number}
    again = StringIO()
    call_command("search_reindex", stdout=again)
    assert again.getvalue().startswith("0 requests' search text rewritten")


def test_sqlite_puts_back_triggers_a_table_rebuild_dropped(
    ministry: Ministry, sara: Beneficiary
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table and its triggers are SQLite's")
    # Given the triggers gone, as when Django rebuilds cases_request to alter a column
    before = submit(ministry, sara, "تأخر رصد الدرجات")
    with connection.cursor() as cursor:
        for name in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER {FTS_TABLE}_{name}")
    missed = submit(ministry, sara, "تأخر صرف المكافأة")
    assert found("تأخر") == {before.tracking_number}

    # When migrate finishes (its post_migrate signal)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    # Then the table is refilled and kept again
    later = submit(ministry, sara, "تأخر نقل المعلم")
    assert found("تأخر") == {r.tracking_number for r in (before, missed, later)}
    Request.objects.filter(pk=later.pk).update(search_text=search_text_of("طلب نقل"))
    assert found("تأخر") == {before.tracking_number, missed.tracking_number}


def test_the_search_uses_the_text_index(ministry: Ministry, sara: Beneficiary) -> None:
    from django.db import transaction

    submit(ministry, sara, "تأخر رصد الدرجات")
    search = queue_filter(Request.objects.all(), QueueFilters(q="تأخر الدرجات"))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A handful of rows: forbid the scans a small table prefers, to see the index match
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        plan = search.order_by().values("pk").explain()
    index = "req_search_trgm" if connection.vendor == "postgresql" else FTS_TABLE
    assert index in plan, plan


def test_a_two_letter_word_is_never_an_index_condition(
    ministry: Ministry, sara: Beneficiary
) -> None:
    # No trigram to look up: as an index condition it would make PostgreSQL read the whole
    # trigram index (once per entity of the scope); it is a test on the rows instead.
    from django.db import transaction

    request = submit(ministry, sara, "طلب رد على الشكوى")
    search = queue_filter(Request.objects.all(), QueueFilters(q="رد"))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = search.order_by().values("pk").explain()
    assert "req_search_trgm" not in plan, plan
    assert FTS_TABLE not in plan, plan
    assert set(search.values_list("pk", flat=True)) == {request.pk}


def test_fts_table_holds_each_request_once(ministry: Ministry, sara: Beneficiary) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table is SQLite's")
    request = submit(ministry, sara, "تأخر رصد الدرجات")
    svc.request_beneficiary_reply(request=request, beneficiary=sara, body="أي جديد؟")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid, search_text FROM {FTS_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows == [(request.pk, Request.objects.get(pk=request.pk).search_text)]
    # Deleted (as a flush of the test database does; the timeline is append-only otherwise)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE request_id = %s", [request.pk])
    Request.objects.filter(pk=request.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {FTS_TABLE}")  # noqa: S608
        assert cursor.fetchone() == (0,)


def test_words_are_found_in_their_own_text() -> None:
    text = "تأخُّر صرف «المكافأة» الشهرية؛ دفعة ٢٠٢٦ (Noor)"
    words = search_words(text)
    assert words == ["تاخر", "صرف", "المكافاه", "الشهريه", "دفعه", "2026", "noor"]
    assert all(word in search_text_of(text) for word in words)

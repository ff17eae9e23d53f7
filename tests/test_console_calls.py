"""The agent's screen-pop through the console's HTTP interface: the caller's record masked,
their open requests within reach and how many are out of it; nothing for another agent or
for staff of another centre; linking, opening, the outcome, a new request for the caller;
and the call's line on the request's timeline."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tawasul.cases.models import Event, EventKind
from tawasul.channels.calls import duration_display
from tawasul.channels.models import Call, CallOutcome, CallStatus
from tawasul.core.validators import mobile_masked

from .test_channels_cti import SARA, UNKNOWN, cti_line, cti_post, event, submit

pytestmark = pytest.mark.django_db

POP = "/console/calls/pop/"


def url(name, *args):
    """The address in Arabic, the default language (no language prefix)."""
    with translation.override("ar"):
        return reverse(name, args=args)


@pytest.fixture
def line(ministry):
    return cti_line(ministry)


@pytest.fixture
def ringing(client, line, staff, sara):
    """Sara's call ringing at the Riyadh agent's desk."""
    cti_post(client, line, event("ringing", agent="riyadh_agent"))
    return Call.objects.get()


def pop_html(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(POP, params, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


# --- what the pop shows, and to whom ---------------------------------------------------------


def test_the_agent_sees_the_caller_masked_and_their_requests_in_reach(
    client, ministry, staff, sara, ringing
):
    # given two open requests of Sara's in Riyadh and one in Makkah (out of reach)
    riyadh = [submit(ministry, sara, ministry.riyadh) for _ in range(2)]
    submit(ministry, sara, ministry.makkah)
    # when the agent's console polls the pop
    html = pop_html(client, staff.riyadh_agent)
    # then it shows her name and masked number, never the number or her ID
    assert "سارة العتيبي" in html
    assert mobile_masked(SARA) in html
    assert SARA not in html
    assert "0551234567" not in html
    assert sara.national_id not in html
    # and the two Riyadh requests with a way to open each, and the count of the other
    for request in riyadh:
        assert request.tracking_display in html
        assert url("console:call_open", ringing.public_id, request.pk) in html
    assert url("console:call_link", ringing.public_id) in html
    assert url("console:call_new_request", ringing.public_id) in html
    with translation.override("ar"):
        hidden = translation.ngettext(
            "%(counter)s other open request is handled by another entity.",
            "%(counter)s other open requests are handled by other entities.",
            1,
        ) % {"counter": 1}
    assert hidden in html


def test_the_makkah_request_is_not_listed(client, ministry, staff, sara, ringing):
    makkah = submit(ministry, sara, ministry.makkah)
    html = pop_html(client, staff.riyadh_agent)
    assert "call-pop__call" in html
    assert makkah.tracking_display not in html
    assert url("console:call_open", ringing.public_id, makkah.pk) not in html


def test_another_agent_of_the_same_centre_sees_no_pop(client, ministry, staff, sara, ringing):
    submit(ministry, sara, ministry.riyadh)
    html = pop_html(client, staff.riyadh_agent2)
    assert "call-pop__call" not in html
    assert "سارة" not in html
    # nor can they act on the call
    for name in ("console:call_link", "console:call_outcome"):
        response = client.post(url(name, ringing.public_id), {"request": 1, "outcome": "resolved"})
        assert response.status_code == 404
    assert client.get(url("console:call_new_request", ringing.public_id)).status_code == 404


def test_staff_without_the_lines_centre_stop_polling(client, ministry, staff, sara, ringing):
    # the Makkah agent: no telephony line in reach → htmx's "stop polling"
    client.force_login(staff.makkah_agent)
    assert client.get(POP).status_code == 286
    # a user without any grant, and nobody signed in, likewise
    client.force_login(staff.outsider)
    assert client.get(POP).status_code == 286
    client.logout()
    assert client.get(POP).status_code == 286


def test_a_call_handed_to_the_agent_elsewhere_is_not_popped_out_of_reach(
    client, ministry, staff, sara, line
):
    # given a call on the Riyadh line whose event names the Makkah agent
    cti_post(client, line, event("ringing", agent="makkah_agent"))
    assert Call.objects.get().agent == staff.makkah_agent
    # then the Makkah agent, without reach over the Riyadh centre, sees nothing
    client.force_login(staff.makkah_agent)
    assert client.get(POP).status_code == 286


def test_an_unchanged_pop_is_not_redrawn(client, ministry, staff, sara, ringing):
    submit(ministry, sara, ministry.riyadh)
    html = pop_html(client, staff.riyadh_agent)
    version = html.split('name="v" value="')[1].split('"')[0]
    assert client.get(POP, {"v": version}).status_code == 204
    # a new request of hers changes what it shows
    submit(ministry, sara, ministry.riyadh)
    assert client.get(POP, {"v": version}).status_code == 200


def test_no_call_shows_an_empty_pop(client, ministry, staff, line):
    html = pop_html(client, staff.riyadh_agent)
    assert "call-pop__call" not in html
    assert 'id="call-pop-version"' in html


def test_an_unknown_caller_is_shown_as_such_with_a_new_request_button(client, line, staff, sara):
    cti_post(client, line, event("ringing", **{"from": UNKNOWN, "agent": "riyadh_agent"}))
    call = Call.objects.get()
    html = pop_html(client, staff.riyadh_agent)
    assert "call-pop__unknown" in html
    assert mobile_masked(UNKNOWN) in html
    assert UNKNOWN not in html
    assert url("console:call_new_request", call.public_id) in html
    # the new request starts with registering them, their number filled in
    response = client.get(url("console:call_new_request", call.public_id))
    assert response.status_code == 200
    assert f'value="{UNKNOWN}"' in response.content.decode()
    assert url("console:intake_register") in response.content.decode()


def test_a_known_caller_goes_to_their_intake_page(client, line, staff, sara, ringing):
    client.force_login(staff.riyadh_agent)
    response = client.get(url("console:call_new_request", ringing.public_id))
    assert response.status_code == 302
    assert response.url.startswith("/console/intake/caller/")
    page = client.get(response.url)
    assert page.status_code == 200
    assert "سارة العتيبي" in page.content.decode()


def test_the_pop_is_on_every_console_page_for_staff(client, staff, line):
    client.force_login(staff.riyadh_agent)
    page = client.get(url("console:queue", "mine")).content.decode()
    assert 'id="call-pop"' in page
    assert f'hx-get="{POP}"' in page
    client.logout()
    assert 'id="call-pop"' not in client.get(url("console:login")).content.decode()


def test_the_call_ended_stays_for_its_outcome_then_leaves(client, ministry, staff, sara, line):
    cti_post(client, line, event("answered", agent="riyadh_agent"))
    cti_post(client, line, event("ended", duration=75))
    call = Call.objects.get()
    html = pop_html(client, staff.riyadh_agent)
    assert "call-pop__call--ended" in html
    assert "01:15" in html
    client.post(url("console:call_outcome", call.public_id), {"outcome": "resolved"})
    assert "call-pop__call" not in pop_html(client, staff.riyadh_agent)


# --- linking, opening, the outcome, the timeline ---------------------------------------------


def test_link_from_the_pop_then_end_and_record_the_outcome(client, ministry, staff, sara, line):
    request = submit(ministry, sara, ministry.riyadh)
    start = int(time.time()) - 200
    cti_post(client, line, event("ringing", at=start, agent="riyadh_agent"))
    cti_post(client, line, event("answered", at=start + 3, agent="riyadh_agent"))
    call = Call.objects.get()
    client.force_login(staff.riyadh_agent)
    # when the agent links the call from the pop (htmx: the pop is redrawn)
    response = client.post(
        url("console:call_link", call.public_id),
        {"request": request.pk, "next": "/console/"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "call-pop__linked" in response.content.decode()
    call.refresh_from_db()
    assert call.request == request
    # and the call ends after 125 s, then the agent records its outcome (plain form)
    cti_post(client, line, event("ended", at=start + 128, duration=125))
    response = client.post(
        url("console:call_outcome", call.public_id),
        {"outcome": CallOutcome.FOLLOW_UP, "next": f"/console/requests/{request.pk}/"},
    )
    assert response.status_code == 302
    assert response.url == f"/console/requests/{request.pk}/"
    # then the request's timeline shows the call once, with its length and outcome
    assert Event.objects.filter(request=request, kind=EventKind.CALL_LOGGED).count() == 1
    page = client.get(url("console:request", request.pk)).content.decode()
    assert "02:05" in page
    with translation.override("ar"):
        assert str(CallOutcome.FOLLOW_UP.label) in page
        assert str(EventKind.CALL_LOGGED.label) in page


def test_opening_a_request_from_the_pop_links_the_call(client, ministry, staff, sara, ringing):
    first = submit(ministry, sara, ministry.riyadh)
    second = submit(ministry, sara, ministry.riyadh)
    client.force_login(staff.riyadh_agent)
    response = client.post(url("console:call_open", ringing.public_id, first.pk))
    assert response.status_code == 302
    assert response.url == f"/console/requests/{first.pk}/"
    ringing.refresh_from_db()
    assert ringing.request == first
    # opening another keeps the link the agent made first
    client.post(url("console:call_open", ringing.public_id, second.pk))
    ringing.refresh_from_db()
    assert ringing.request == first


def test_a_request_out_of_reach_cannot_be_linked_or_opened(client, ministry, staff, sara, ringing):
    makkah = submit(ministry, sara, ministry.makkah)
    client.force_login(staff.riyadh_agent)
    assert (
        client.post(url("console:call_link", ringing.public_id), {"request": makkah.pk}).status_code
        == 404
    )
    assert client.post(url("console:call_open", ringing.public_id, makkah.pk)).status_code == 404
    ringing.refresh_from_db()
    assert ringing.request is None


def test_a_bad_outcome_is_refused(client, staff, ringing):
    client.force_login(staff.riyadh_agent)
    response = client.post(url("console:call_outcome", ringing.public_id), {"outcome": "great"})
    assert response.status_code == 400
    ringing.refresh_from_db()
    assert ringing.outcome == ""


def test_linking_a_logged_call_elsewhere_says_why(client, ministry, staff, sara, line):
    first = submit(ministry, sara, ministry.riyadh)
    second = submit(ministry, sara, ministry.riyadh)
    cti_post(client, line, event("answered", agent="riyadh_agent", outcome="resolved"))
    call = Call.objects.get()
    client.force_login(staff.riyadh_agent)
    client.post(url("console:call_link", call.public_id), {"request": first.pk})
    cti_post(client, line, event("ended", duration=10))
    assert Call.objects.get().logged_at is not None
    response = client.post(
        url("console:call_link", call.public_id),
        {"request": second.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    with translation.override("ar"):
        assert (
            str(_("This call is already logged on another request.")) in response.content.decode()
        )
    call.refresh_from_db()
    assert call.request == first
    assert call.status == CallStatus.ENDED
    assert duration_display(call.duration_seconds) == "00:10"


def test_the_pop_costs_the_same_queries_however_many_requests(
    client, ministry, staff, sara, ringing
):
    client.force_login(staff.riyadh_agent)
    submit(ministry, sara, ministry.riyadh)
    with CaptureQueriesContext(connection) as few:
        assert client.get(POP).status_code == 200
    for _extra in range(4):
        submit(ministry, sara, ministry.riyadh)
    with CaptureQueriesContext(connection) as many:
        assert client.get(POP).status_code == 200
    assert len(many) == len(few)

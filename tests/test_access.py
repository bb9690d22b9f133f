"""The role check and the ``access_*`` fetches every view, endpoint and consumer goes through.

One table lists every object type with its fetch and the role it needs by
default; each rule below is checked against every row. The views that use them
are covered URL by URL in ``test_permissions``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from comptoir.appointments.access import (
    access_appointment,
    access_device,
    access_location,
    access_service,
)
from comptoir.appointments.actions import available_slots, book_appointment
from comptoir.assistant.access import access_article, access_intent
from comptoir.assistant.models import Intent, KnowledgeArticle
from comptoir.canned.access import access_canned_reply, check_may_edit
from comptoir.canned.models import CannedReply
from comptoir.conversations.access import access_attachment, access_conversation
from comptoir.conversations.inbound import InboundAttachment
from comptoir.customers.access import (
    access_customer,
    access_identity,
    access_merge,
    access_proposal,
)
from comptoir.customers.merging import merge_customers
from comptoir.customers.models import DuplicateProposal
from comptoir.gdpr.access import access_data_request
from comptoir.gdpr.actions import request_data_export
from comptoir.search.access import access_saved_view
from comptoir.search.models import SavedView
from comptoir.tenancy.access import (
    ROLE_REFUSALS,
    access_agent_seat,
    access_api_token,
    access_colleague,
    access_team,
    check_role,
)
from comptoir.tenancy.models import ROLE_ORDER, ApiToken, Brand, Role, Team
from comptoir.touchpoints.email.access import access_mailbox, access_quarantined_mail
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.messaging.access import access_messaging_account
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.phone.access import access_call, access_callback, access_phone_line
from comptoir.touchpoints.phone.click_to_call import start_outbound_call
from comptoir.touchpoints.phone.models import CallbackRequest, PhoneLine
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent, make_brand

# Role checks


@pytest.mark.parametrize("required", ROLE_ORDER)
@pytest.mark.parametrize("held", ROLE_ORDER)
def test_each_role_may_do_what_the_roles_below_it_may(brand, held, required):
    member = make_agent(brand, held)
    allowed = ROLE_ORDER.index(held) >= ROLE_ORDER.index(required)
    assert member.has_role(required) is allowed
    if allowed:
        assert check_role(member, required) is member
    else:
        with pytest.raises(PermissionDenied) as refused:
            check_role(member, required)
        assert str(refused.value) == ROLE_REFUSALS[required]


def test_a_role_this_version_does_not_know_is_below_every_role(brand):
    member = make_agent(brand, "owner")
    for role in ROLE_ORDER:
        assert not member.has_role(role)
        with pytest.raises(PermissionDenied):
            check_role(member, role)


def test_a_refusal_may_say_what_the_role_is_needed_for(brand):
    with pytest.raises(PermissionDenied) as refused:
        check_role(make_agent(brand, Role.SUPERVISOR), Role.ADMIN, "Only admins post raw mail.")
    assert str(refused.value) == "Only admins post raw mail."


def test_the_role_shortcuts_follow_the_same_order(brand):
    agent, supervisor, admin = (make_agent(brand, role) for role in ROLE_ORDER)
    assert [m.is_supervisor for m in (agent, supervisor, admin)] == [False, True, True]
    assert [m.is_administrator for m in (agent, supervisor, admin)] == [False, False, True]


def test_the_api_answers_a_role_too_low_with_403_and_the_reason_in_json(client, brand):
    _, key = ApiToken.issue(make_agent(brand, Role.SUPERVISOR), "too low")
    response = client.get("/api/assistant/intents", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Only the brand's administrators configure the assistant."}


# The fetches


def _conversation(brand: Brand):
    return ingest_chat(brand, "Bonjour").conversation


def _attachment(brand: Brand):
    photo = InboundAttachment("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    return ingest_chat(brand, "Photo", attachments=[photo]).attachments.get()


def _identity(brand: Brand):
    return _conversation(brand).customer.identities.get()


def _proposal(brand: Brand):
    first, second = sorted(_conversation(brand).customer_id for _ in range(2))
    return DuplicateProposal.objects.create(
        brand=brand, customer_a_id=first, customer_b_id=second, score=0.9, reasons=[]
    )


def _merge(brand: Brand):
    survivor, absorbed = (_conversation(brand).customer for _ in range(2))
    return merge_customers(make_agent(brand, Role.SUPERVISOR), survivor, absorbed)


def _callback(brand: Brand):
    conversation = _conversation(brand)
    return CallbackRequest.objects.create(
        brand=brand,
        customer=conversation.customer,
        conversation=conversation,
        number="+33612345678",
        requested_for=timezone.now() + timedelta(hours=1),
    )


def _call(brand: Brand):
    PhoneLine.objects.create(brand=brand, number=f"+3318000{brand.pk:04d}")
    return start_outbound_call(make_agent(brand), "+33612345678")


def _appointment(brand: Brand):
    location, service = shop(brand), diagnosis(brand)
    now = timezone.now()
    slot = available_slots(location, service, now, now + timedelta(days=8))[0]
    customer = _conversation(brand).customer
    return book_appointment(
        location, service, slot.starts_at, customer=customer, serial_number="A1"
    )


@dataclass(frozen=True)
class Fetch:
    access: Callable
    make: Callable[[Brand], object]
    # The lowest role the fetch lets through when the caller does not ask for more.
    default_role: str = Role.AGENT


FETCHES = {
    "conversation": Fetch(access_conversation, _conversation),
    "attachment": Fetch(access_attachment, _attachment),
    "customer": Fetch(access_customer, lambda brand: _conversation(brand).customer),
    "identity": Fetch(access_identity, _identity),
    "proposal": Fetch(access_proposal, _proposal),
    "merge": Fetch(access_merge, _merge),
    "colleague": Fetch(access_colleague, make_agent),
    "team": Fetch(access_team, lambda brand: Team.objects.create(brand=brand, name="Service")),
    "intent": Fetch(
        access_intent,
        lambda brand: Intent.objects.create(brand=brand, name="hello", label="Hello"),
        Role.ADMIN,
    ),
    "article": Fetch(
        access_article,
        lambda brand: KnowledgeArticle.objects.create(brand=brand, title="Returns", body="…"),
        Role.ADMIN,
    ),
    "quarantined mail": Fetch(
        access_quarantined_mail,
        lambda brand: QuarantinedMail.objects.create(
            brand=brand, source="smtp", raw=b"Subject: x\r\n\r\n", reason="unreadable"
        ),
        Role.ADMIN,
    ),
    "agent seat": Fetch(access_agent_seat, make_agent, Role.ADMIN),
    "api token": Fetch(
        access_api_token, lambda brand: ApiToken.issue(make_agent(brand), "CRM")[0], Role.ADMIN
    ),
    "mailbox": Fetch(
        access_mailbox,
        lambda brand: Mailbox.objects.create(brand=brand, address=f"help-{brand.pk}@example.org"),
        Role.ADMIN,
    ),
    "messaging account": Fetch(
        access_messaging_account,
        lambda brand: MessagingAccount.objects.create(
            brand=brand, provider="whatsapp", external_id=f"wa-{brand.pk}", app_secret="s"
        ),
        Role.ADMIN,
    ),
    "phone line": Fetch(
        access_phone_line,
        lambda brand: PhoneLine.objects.create(brand=brand, number=f"+3318000{brand.pk:04d}"),
        Role.ADMIN,
    ),
    "callback request": Fetch(access_callback, _callback),
    "call": Fetch(access_call, _call),
    "location": Fetch(access_location, shop),
    "service": Fetch(access_service, diagnosis),
    "appointment": Fetch(access_appointment, _appointment),
    "device": Fetch(access_device, lambda brand: _appointment(brand).device),
    "data request": Fetch(
        access_data_request,
        lambda brand: request_data_export(_conversation(brand).customer, source="widget"),
        Role.SUPERVISOR,
    ),
}
KINDS = sorted(FETCHES)
KINDS_ABOVE_AGENT = [kind for kind in KINDS if FETCHES[kind].default_role != Role.AGENT]


@pytest.mark.parametrize("kind", KINDS)
def test_the_brand_s_object_is_returned_to_the_role_it_needs(brand, kind):
    fetch = FETCHES[kind]
    target = fetch.make(brand)
    assert fetch.access(make_agent(brand, fetch.default_role), target.pk) == target


@pytest.mark.parametrize("kind", KINDS)
def test_another_brand_s_object_is_not_found_even_for_its_administrator(brand, kind):
    fetch = FETCHES[kind]
    target = fetch.make(brand)
    administrator_elsewhere = make_agent(make_brand("Rival"), Role.ADMIN)
    with pytest.raises(Http404):
        fetch.access(administrator_elsewhere, target.pk)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad_id", [10_000_000, "abc", None])
def test_a_missing_or_malformed_id_is_not_found(brand, kind, bad_id):
    fetch = FETCHES[kind]
    fetch.make(brand)
    with pytest.raises(Http404):
        fetch.access(make_agent(brand, Role.ADMIN), bad_id)


@pytest.mark.parametrize("kind", KINDS_ABOVE_AGENT)
def test_a_role_below_the_default_is_refused_whether_or_not_the_object_exists(brand, kind):
    fetch = FETCHES[kind]
    target = fetch.make(brand)
    lower = make_agent(brand, ROLE_ORDER[ROLE_ORDER.index(fetch.default_role) - 1])
    for object_id in (target.pk, 10_000_000):
        with pytest.raises(PermissionDenied):
            fetch.access(lower, object_id)


@pytest.mark.parametrize("kind", KINDS)
def test_the_caller_may_require_a_higher_role(brand, kind):
    fetch = FETCHES[kind]
    target = fetch.make(brand)
    with pytest.raises(PermissionDenied):
        fetch.access(make_agent(brand, Role.SUPERVISOR), target.pk, require_role=Role.ADMIN)
    assert fetch.access(make_agent(brand, Role.ADMIN), target.pk, require_role=Role.ADMIN) == target


def test_an_inactive_colleague_is_not_found(brand, agent, colleague):
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    with pytest.raises(Http404):
        access_colleague(agent, colleague.pk)
    # Settings still manage the seat (to reactivate it).
    assert access_agent_seat(make_agent(brand, Role.ADMIN), colleague.pk) == colleague


# A saved view belongs to its agent, not to the brand: it is not in the table above
# (whose objects any member with the role may fetch).


def test_a_saved_view_is_fetched_by_its_owner_only(brand, agent, other_brand):
    view = SavedView.objects.create(brand=brand, owner=agent, name="Mine", filters={})
    assert access_saved_view(agent, view.pk) == view
    for someone in (make_agent(brand, Role.ADMIN), make_agent(other_brand, Role.ADMIN)):
        with pytest.raises(Http404):
            access_saved_view(someone, view.pk)
    for bad_id in (10_000_000, "abc", None):
        with pytest.raises(Http404):
            access_saved_view(agent, bad_id)
    with pytest.raises(PermissionDenied):
        access_saved_view(agent, view.pk, require_role=Role.SUPERVISOR)


def test_a_personal_canned_reply_is_fetched_by_its_owner_only(brand, agent, other_brand):
    mine = CannedReply.objects.create(brand=brand, owner=agent, shortcut="a", title="A", body="A")
    shared = CannedReply.objects.create(brand=brand, shortcut="b", title="B", body="B")
    assert access_canned_reply(agent, mine.pk) == mine
    assert access_canned_reply(make_agent(brand), shared.pk) == shared
    for someone in (make_agent(brand, Role.ADMIN), make_agent(other_brand, Role.ADMIN)):
        with pytest.raises(Http404):
            access_canned_reply(someone, mine.pk)
    with pytest.raises(Http404):
        access_canned_reply(make_agent(other_brand, Role.ADMIN), shared.pk)
    for bad_id in (10_000_000, "abc", None):
        with pytest.raises(Http404):
            access_canned_reply(agent, bad_id)
    # Using a shared reply is any agent's; changing it, a supervisor's.
    with pytest.raises(PermissionDenied):
        check_may_edit(agent, shared)
    check_may_edit(make_agent(brand, Role.SUPERVISOR), shared)
    check_may_edit(agent, mine)

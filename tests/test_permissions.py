"""Every URL has a permission case, and every case is tested against outsiders and roles.

``test_every_url_has_a_permission_case`` fails as soon as a URL is added without
an entry below. For each entry:

- an anonymous caller is turned away;
- a member of *another* brand, even with the role the URL needs, gets 404 for
  an object of this brand (or, for lists, sees none of this brand's data);
- a member of this brand with a role below the one the URL needs gets 403;
- a member of this brand with exactly that role gets through.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from comptoir.appointments.actions import available_slots, book_appointment
from comptoir.appointments.configure import add_staff
from comptoir.appointments.links import manage_token
from comptoir.appointments.models import Device
from comptoir.assistant.models import Intent, KnowledgeArticle
from comptoir.canned.models import CannedReply
from comptoir.conversations.actions import add_note
from comptoir.conversations.inbound import InboundAttachment
from comptoir.conversations.tags import tag_conversation
from comptoir.customers.merging import merge_customers
from comptoir.customers.models import DuplicateProposal
from comptoir.events.models import Event
from comptoir.gdpr.actions import request_data_export
from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.routing.models import Skill, SkillRequirement
from comptoir.search.models import SavedView
from comptoir.sla import configure
from comptoir.surveys.models import FollowUp, Survey
from comptoir.tenancy.models import ROLE_ORDER, ApiToken, Role, Team
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.messaging.signatures import signature_for
from comptoir.touchpoints.phone.models import CallbackRequest, PhoneLine
from comptoir.touchpoints.phone.signatures import generic_signature
from comptoir.widget.tokens import issue_visitor_token
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent
from tests.portal_helpers import portal_session
from tests.sla_helpers import office_calendar, office_policy

SECRET = "SECRET-TEXT-4242"


@dataclass(frozen=True)
class Case:
    """How a URL is protected.

    ``auth``: "session" (console login), "token" (API bearer), "visitor" (widget
    token), "signed" (a provider's webhook signed with the brand's secret), "portal"
    (a customer's portal session), or "public". ``target``: the object the URL names,
    if any. ``role``: the lowest role of a brand's member that may use it (session and
    token URLs).
    """

    auth: str
    target: str | None = None
    method: str = "get"
    role: str = Role.AGENT


CASES: dict[str, Case] = {
    # Console: login required, brand-scoped.
    "console:inbox": Case("session"),
    "console:inbox_fragment": Case("session"),
    "console:logout": Case("public", method="post"),
    "console:login": Case("public"),
    "admin_login": Case("public"),
    # Second factor (any signed-in user) and the audit log (the brand's administrators).
    "security:setup": Case("session"),
    "security:verify": Case("session"),
    "security:audit_log": Case("session", role=Role.ADMIN),
    "security:audit_export": Case("session", role=Role.ADMIN),
    # A customer's data: exported by supervisors, erased by administrators.
    "gdpr:export": Case("session", "customer", role=Role.SUPERVISOR),
    "gdpr:erase": Case("session", "customer", "post", role=Role.ADMIN),
    # Data requests: any agent records one; supervisors list, download and close them; the
    # records of processing and the retention period are the administrators'.
    "gdpr:request_open": Case("session", "customer", "post"),
    "gdpr:requests": Case("session", role=Role.SUPERVISOR),
    "gdpr:request_archive": Case("session", "data_request", role=Role.SUPERVISOR),
    "gdpr:request_fulfil": Case("session", "data_request", "post", role=Role.SUPERVISOR),
    "gdpr:request_reject": Case("session", "data_request", "post", role=Role.SUPERVISOR),
    "gdpr:processing": Case("session", role=Role.ADMIN),
    "gdpr:retention": Case("session", method="post", role=Role.ADMIN),
    # The customer's own choices from the widget's session.
    "gdpr:widget_consents": Case("visitor", method="post"),
    "gdpr:widget_requests": Case("visitor", method="post"),
    "console:consent_record": Case("session", "customer", "post"),
    "console:conversation": Case("session", "conversation"),
    "console:thread_fragment": Case("session", "conversation"),
    "console:conversation_panel_fragment": Case("session", "conversation"),
    "console:compose": Case("session", "conversation", "post"),
    "console:resend": Case("session", "message", "post"),
    "console:assign": Case("session", "conversation", "post"),
    "console:resolve": Case("session", "conversation", "post"),
    "console:reopen": Case("session", "conversation", "post"),
    "console:pending": Case("session", "conversation", "post"),
    "console:tag_add": Case("session", "conversation", "post"),
    # The conversation's and the tag's ids: another brand's tag is a 404 like its conversation.
    "console:tag_remove": Case("session", "tag", "post"),
    # The ticked ids come in the form: test_tags.py checks another brand's (404).
    "console:bulk": Case("session", method="post"),
    "console:customer": Case("session", "customer"),
    "console:customer_panel_fragment": Case("session", "customer"),
    "console:attachment": Case("session", "attachment"),
    "console:identity_add": Case("session", "customer", "post"),
    "console:advisor_set": Case("session", "customer", "post", role=Role.SUPERVISOR),
    "console:identity_verify": Case("session", "identity", "post"),
    "console:identity_remove": Case("session", "identity", "post"),
    "console:duplicates": Case("session"),
    "console:proposal_merge": Case("session", "proposal", "post", role=Role.SUPERVISOR),
    "console:proposal_dismiss": Case("session", "proposal", "post", role=Role.SUPERVISOR),
    "console:merge_undo": Case("session", "merge", "post", role=Role.SUPERVISOR),
    # The agent's own availability: only ever the session's or the token's own membership.
    "console:availability": Case("session", method="post"),
    "api:get_availability": Case("token"),
    "api:put_availability": Case("token", method="put"),
    # REST API: bearer token, brand-scoped. Its description is public.
    "api:openapi-json": Case("public"),
    "api:openapi-view": Case("public"),
    "api:api-root": Case("public"),
    "api:list_customers": Case("token"),
    "api:list_conversations": Case("token"),
    "api:get_customer": Case("token", "customer"),
    "api:list_customer_conversations": Case("token", "customer"),
    "api:get_conversation": Case("token", "conversation"),
    "api:get_conversation_wait": Case("token", "conversation"),
    "api:list_messages": Case("token", "conversation"),
    "api:post_message": Case("token", "conversation", "post"),
    "api:assign": Case("token", "conversation", "post"),
    "api:resolve": Case("token", "conversation", "post"),
    "api:reopen": Case("token", "conversation", "post"),
    "api:pending": Case("token", "conversation", "post"),
    "api:put_tags": Case("token", "conversation", "put"),
    "api:get_conversation_sla": Case("token", "conversation"),
    # SLA administration: the brand's administrators only.
    "sla:overview": Case("session", role=Role.ADMIN),
    "sla:calendar_create": Case("session", method="post", role=Role.ADMIN),
    "sla:calendar_edit": Case("session", "calendar", role=Role.ADMIN),
    "sla:holiday_add": Case("session", "calendar", "post", role=Role.ADMIN),
    "sla:calendar_import": Case("session", "calendar", "post", role=Role.ADMIN),
    "sla:holiday_delete": Case("session", "holiday", "post", role=Role.ADMIN),
    "sla:policy_create": Case("session", method="post", role=Role.ADMIN),
    "sla:policy_edit": Case("session", "policy", role=Role.ADMIN),
    "sla:policy_delete": Case("session", "policy", "post", role=Role.ADMIN),
    "api:list_identities": Case("token", "customer"),
    "api:post_identity": Case("token", "customer", "post"),
    "api:put_advisor": Case("token", "customer", "put", role=Role.SUPERVISOR),
    "api:verify_identity": Case("token", "identity", "post"),
    "api:delete_identity": Case("token", "identity", "delete"),
    "api:list_duplicates": Case("token"),
    "api:dismiss_duplicate": Case("token", "proposal", "post", role=Role.SUPERVISOR),
    "api:merge_customers": Case("token", "customer", "post", role=Role.SUPERVISOR),
    "api:list_merges": Case("token"),
    "api:unmerge": Case("token", "merge", "post", role=Role.SUPERVISOR),
    # Widget: public script and session; everything else needs the visitor token.
    "widget:script": Case("public"),
    "widget:session": Case("public", method="post"),
    "widget:messages": Case("visitor", method="post"),
    "widget:identify": Case("visitor", method="post"),
    "widget:wait": Case("visitor", method="post"),
    "widget:attachment": Case("visitor", "attachment"),
    # Demo shop and language switch.
    "demo:home": Case("public"),
    "demo:shop": Case("public"),
    "set_language": Case("public", method="post"),
    # E-mail: quarantine for the brand's administrators; raw mail posted with an API key.
    "email:quarantine": Case("session", role=Role.ADMIN),
    "email:quarantine_raw": Case("session", "quarantined", role=Role.ADMIN),
    "email:quarantine_retry": Case("session", "quarantined", "post", role=Role.ADMIN),
    "email:inbound": Case("token", method="post", role=Role.ADMIN),
    # Messaging webhooks: public URLs, every POST signed with the brand's app secret.
    "messaging:whatsapp_webhook": Case("signed", "brand", "post"),
    "messaging:messenger_webhook": Case("signed", "brand", "post"),
    # Phone: signed call-event webhooks, click-to-call and the callback queue, the widget's
    # "call me back" and callback requests in the API.
    "phone:generic_events": Case("signed", "brand", "post"),
    "phone:twilio_voice": Case("signed", "brand", "post"),
    "phone:call_customer": Case("session", "customer", "post"),
    "phone:callbacks": Case("session"),
    "phone:callback_call": Case("session", "callback", "post"),
    "phone:callback_done": Case("session", "callback", "post"),
    "phone:callback_cancel": Case("session", "callback", "post"),
    "phone:widget_callback": Case("visitor", method="post"),
    "api:create_callback": Case("token", method="post"),
    "api:list_callbacks": Case("token"),
    "api:get_callback": Case("token", "callback"),
    # Assistant: agent assist for a conversation; the demo brand's pretend order system.
    "assistant:assist": Case("session", "conversation"),
    "assistant:demo_order": Case("public"),
    # Assistant configuration: the brand's administrators only.
    "assistant:console": Case("session", role=Role.ADMIN),
    "assistant:results": Case("session", role=Role.SUPERVISOR),
    "assistant:settings_save": Case("session", method="post", role=Role.ADMIN),
    "assistant:intent_create": Case("session", role=Role.ADMIN),
    "assistant:intent_edit": Case("session", "intent", role=Role.ADMIN),
    "assistant:intent_delete": Case("session", "intent", "post", role=Role.ADMIN),
    "assistant:article_create": Case("session", role=Role.ADMIN),
    "assistant:article_edit": Case("session", "article", role=Role.ADMIN),
    "assistant:article_delete": Case("session", "article", "post", role=Role.ADMIN),
    # Routing rules, skills and agents' capacity: the brand's administrators only.
    "routing:console": Case("session", role=Role.ADMIN),
    "routing:skill_add": Case("session", method="post", role=Role.ADMIN),
    "routing:agent": Case("session", "membership", role=Role.ADMIN),
    "routing:requirement_add": Case("session", method="post", role=Role.ADMIN),
    "routing:requirement_delete": Case("session", "requirement", "post", role=Role.ADMIN),
    "routing:overflow": Case("session", method="post", role=Role.ADMIN),
    # The supervisor's live board, and acting from it.
    "routing:board": Case("session", role=Role.SUPERVISOR),
    "routing:board_fragment": Case("session", role=Role.SUPERVISOR),
    "routing:board_assign": Case("session", "conversation", "post", role=Role.SUPERVISOR),
    "routing:board_move": Case("session", "conversation", "post", role=Role.SUPERVISOR),
    "routing:board_priority": Case("session", "conversation", "post", role=Role.SUPERVISOR),
    # Assistant configuration in the API: administrators' tokens only.
    "api:get_assistant_settings": Case("token", role=Role.ADMIN),
    "api:get_metrics": Case("token", role=Role.ADMIN),
    "api:list_teams": Case("token"),
    "api:update_assistant_settings": Case("token", method="put", role=Role.ADMIN),
    "api:list_intents": Case("token", role=Role.ADMIN),
    "api:create_intent": Case("token", method="post", role=Role.ADMIN),
    "api:get_intent": Case("token", "intent", role=Role.ADMIN),
    "api:update_intent": Case("token", "intent", "put", role=Role.ADMIN),
    "api:delete_intent": Case("token", "intent", "delete", role=Role.ADMIN),
    "api:list_articles": Case("token", role=Role.ADMIN),
    "api:create_article": Case("token", method="post", role=Role.ADMIN),
    "api:get_article": Case("token", "article", role=Role.ADMIN),
    "api:update_article": Case("token", "article", "put", role=Role.ADMIN),
    "api:delete_article": Case("token", "article", "delete", role=Role.ADMIN),
    "api:predict_intent": Case("token", method="post", role=Role.ADMIN),
    # Settings: the brand's administrators only (comptoir/administration).
    "administration:brand": Case("session", role=Role.ADMIN),
    "administration:agents": Case("session", role=Role.ADMIN),
    "administration:agent_invite": Case("session", method="post", role=Role.ADMIN),
    "administration:agent_role": Case("session", "membership", "post", role=Role.ADMIN),
    "administration:agent_deactivate": Case("session", "membership", "post", role=Role.ADMIN),
    "administration:agent_reactivate": Case("session", "membership", "post", role=Role.ADMIN),
    "administration:agent_resend": Case("session", "membership", "post", role=Role.ADMIN),
    "administration:teams": Case("session", role=Role.ADMIN),
    "administration:team_create": Case("session", method="post", role=Role.ADMIN),
    "administration:team": Case("session", "team", role=Role.ADMIN),
    "administration:channels": Case("session", role=Role.ADMIN),
    "administration:mailbox_create": Case("session", role=Role.ADMIN),
    "administration:mailbox": Case("session", "mailbox", role=Role.ADMIN),
    "administration:messaging_create": Case("session", role=Role.ADMIN),
    "administration:messaging": Case("session", "account", role=Role.ADMIN),
    "administration:messaging_rotate": Case("session", "account", "post", role=Role.ADMIN),
    "administration:phone_create": Case("session", role=Role.ADMIN),
    "administration:phone": Case("session", "line", role=Role.ADMIN),
    "administration:phone_rotate": Case("session", "line", "post", role=Role.ADMIN),
    "administration:tokens": Case("session", role=Role.ADMIN),
    "administration:token_create": Case("session", method="post", role=Role.ADMIN),
    "administration:token_revoke": Case("session", "token", "post", role=Role.ADMIN),
    # Canned replies: any agent; a personal reply is its owner's only (see PRIVATE_TARGETS).
    "canned:list": Case("session"),
    "canned:create": Case("session", method="post"),
    "canned:edit": Case("session", "reply"),
    "canned:delete": Case("session", "reply", "post"),
    "canned:for_conversation": Case("session", "conversation"),
    # An invited agent's set-password link: its token is the credential.
    "console:password_set": Case("public"),
    # Search: any agent of the brand; a saved view is its owner's only (see PRIVATE_TARGETS).
    "search:console": Case("session"),
    "search:view_create": Case("session", method="post"),
    "search:view_delete": Case("session", "saved_view", "post"),
    "api:search": Case("token"),
    # Surveys: the signed link is its own credential (refusals tested in test_surveys); the
    # widget answers with the visitor's token; settings for administrators, follow-ups for
    # supervisors; any agent sends one by hand.
    "surveys:answer": Case("public"),
    "surveys:stop": Case("public", method="post"),
    "surveys:widget_answer": Case("visitor", method="post"),
    "surveys:settings": Case("session", role=Role.ADMIN),
    "surveys:proactive": Case("session", role=Role.ADMIN),
    "surveys:follow_up_done": Case("session", "follow_up", "post", role=Role.SUPERVISOR),
    "surveys:send": Case("session", "conversation", "post"),
    "api:send_survey": Case("token", "conversation", "post"),
    "api:answer_call_survey": Case("token", "contact", "post"),
    "api:list_surveys": Case("token", "conversation"),
    # Reports: every agent (an agent's own figures; the brand's from supervisor up).
    "reports:overview": Case("session"),
    "reports:export": Case("session"),
    "api:get_report": Case("token"),
    # Outbound webhooks: the brand's administrators only, in the console and the API.
    "outbound_webhooks:overview": Case("session", role=Role.ADMIN),
    "outbound_webhooks:endpoint": Case("session", "endpoint", role=Role.ADMIN),
    "outbound_webhooks:endpoint_rotate": Case("session", "endpoint", "post", role=Role.ADMIN),
    "outbound_webhooks:endpoint_delete": Case("session", "endpoint", "post", role=Role.ADMIN),
    "outbound_webhooks:delivery_redeliver": Case("session", "delivery", "post", role=Role.ADMIN),
    "api:list_webhook_kinds": Case("token", role=Role.ADMIN),
    "api:list_webhook_endpoints": Case("token", role=Role.ADMIN),
    "api:create_webhook_endpoint": Case("token", method="post", role=Role.ADMIN),
    "api:get_webhook_endpoint": Case("token", "endpoint", role=Role.ADMIN),
    "api:update_webhook_endpoint": Case("token", "endpoint", "put", role=Role.ADMIN),
    "api:delete_webhook_endpoint": Case("token", "endpoint", "delete", role=Role.ADMIN),
    "api:rotate_webhook_secret": Case("token", "endpoint", "post", role=Role.ADMIN),
    "api:list_webhook_deliveries": Case("token", "endpoint", role=Role.ADMIN),
    "api:redeliver_webhook": Case("token", "delivery", "post", role=Role.ADMIN),
    # Moving in: uploading another help desk's export, the brand's administrators only.
    "moving_in:imports": Case("session", role=Role.ADMIN),
    "api:import_conversation": Case("token", method="post", role=Role.ADMIN),
    # Appointments: any agent of the brand; the customer's page is reached by its signed link.
    "appointments:desk": Case("session"),
    "appointments:desk_fragment": Case("session"),
    "appointments:book": Case("session", "customer"),
    "appointments:check_in": Case("session", "appointment", "post"),
    "appointments:call": Case("session", "appointment", "post"),
    "appointments:serve": Case("session", "appointment", "post"),
    "appointments:no_show": Case("session", "appointment", "post"),
    "appointments:cancel": Case("session", "appointment", "post"),
    "appointments:park": Case("session", "appointment", "post"),
    "appointments:resume": Case("session", "appointment", "post"),
    "appointments:transfer": Case("session", "appointment", "post"),
    "appointments:call_next": Case("session", "location", "post"),
    "appointments:walk_in": Case("session", "location", "post"),
    "appointments:lobby": Case("session", "location"),
    "appointments:setup": Case("session", role=Role.ADMIN),
    "appointments:setup_location": Case("session", "location", role=Role.ADMIN),
    "appointments:setup_service": Case("session", "service", role=Role.ADMIN),
    "appointments:setup_staff": Case("session", "resource", role=Role.ADMIN),
    "appointments:devices": Case("session"),
    "appointments:device": Case("session", "device"),
    "appointments:widget_slots": Case("visitor", method="post"),
    "appointments:widget_book": Case("visitor", method="post"),
    "appointments:manage": Case("public", "manage_token"),
    "appointments:place": Case("public", "manage_token"),
    "appointments:qr": Case("public", "manage_token"),
    # The customer portal: its own sign-in (a code), nothing of an agent's session. Its
    # front doors are public; its pages need a portal session and show the person's own
    # files only (another person's conversation, an unlinked brand: 404).
    "portal:home": Case("public"),
    "portal:sign_out": Case("public", method="post"),
    "portal:sign_in": Case("public", "portal_brand"),
    "portal:code": Case("public", "portal_brand"),
    "portal:code_link": Case("public", "portal_code_link"),
    "portal:conversation": Case("portal", "conversation"),
    "portal:attachment": Case("portal", "attachment"),
    "portal:new": Case("portal", "portal_brand"),
    "portal:data": Case("portal", "portal_brand"),
    "portal:export": Case("portal", "portal_brand"),
    "portal:erase": Case("portal", "portal_brand", "post"),
    "portal:unlink": Case("portal", "portal_brand", "post"),
    "api:list_locations": Case("token"),
    "api:list_services": Case("token"),
    "api:list_slots": Case("token"),
    "api:create_appointment": Case("token", method="post"),
    "api:get_appointment": Case("token", "appointment"),
    "api:reschedule_appointment": Case("token", "appointment", "post"),
    "api:cancel_appointment": Case("token", "appointment", "post"),
    "api:search_devices": Case("token"),
    "api:get_device": Case("token", "device"),
}

# Objects that belong to one agent, not to the brand: made for the member who calls.
PRIVATE_TARGETS = {
    "reply": lambda member: (
        CannedReply.objects.create(
            brand=member.brand, owner=member, shortcut="secret", title=SECRET, body=SECRET
        ).pk
    ),
    "saved_view": lambda member: (
        SavedView.objects.create(
            brand=member.brand, owner=member, name=SECRET, filters={"q": SECRET}
        ).pk
    ),
}


def url_names(patterns=None, namespace: str | None = None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django admin: platform operators only, tested below
            inner = ":".join(n for n in (namespace, pattern.namespace) if n) or None
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL {pattern.pattern}"
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_has_a_permission_case():
    assert set(url_names()) == set(CASES)


@pytest.fixture
def secret_data(brand, agent):
    message = ingest_chat(
        brand,
        SECRET,
        attachments=[InboundAttachment("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
    )
    note = add_note(agent, message.conversation, f"note {SECRET}")
    tag, _ = tag_conversation(agent, message.conversation, "vip")
    customer = message.conversation.customer
    identity_data = identity_resolution_data(brand, customer)
    return {
        **identity_data,
        "conversation": message.conversation.pk,
        "tag": tag.pk,
        "customer": message.conversation.customer_id,
        "membership": agent.pk,
        "message": note.pk,
        "attachment": message.attachments.get().pk,
        "brand": messaging_accounts(brand, "brand-secret"),
        "portal_brand": brand.slug,
        "callback": phone_data(brand, message.conversation),
        "quarantined": QuarantinedMail.objects.create(
            brand=brand, source="smtp", raw=f"Subject: {SECRET}\r\n\r\n".encode(), reason=SECRET
        ).pk,
        **assistant_data(brand),
        **settings_data(brand, agent),
        **sla_data(brand),
        "requirement": routing_data(brand),
        **survey_data(brand, message.conversation),
        **webhook_data(brand),
        "saved_view": PRIVATE_TARGETS["saved_view"](agent),
        "reply": PRIVATE_TARGETS["reply"](agent),
        **appointment_data(brand, customer),
        "data_request": request_data_export(customer, source="widget").pk,
    }


def settings_data(brand, agent) -> dict:
    """A team, a mailbox, an API token of ``brand`` named with the secret; its account and line.

    The messaging accounts and the phone line are those ``messaging_accounts`` and
    ``phone_data`` made.
    """
    team = Team.objects.create(brand=brand, name=SECRET)
    mailbox = Mailbox.objects.create(
        brand=brand, address=f"support-{brand.pk}@example.org", sender_name=SECRET
    )
    token, _ = ApiToken.issue(agent, SECRET)
    return {
        "team": team.pk,
        "mailbox": mailbox.pk,
        "token": token.pk,
        "account": MessagingAccount.objects.filter(brand=brand).order_by("pk").first().pk,
        "line": PhoneLine.objects.get(brand=brand).pk,
    }


def appointment_data(brand, customer) -> dict:
    """A shop named with the secret, a booking and a device of ``customer`` that hold it."""
    location, service = shop(brand, name=SECRET), diagnosis(brand)
    now = timezone.now()
    slot = available_slots(location, service, now, now + timedelta(days=8))[0]
    appointment = book_appointment(
        location,
        service,
        slot.starts_at,
        customer=customer,
        serial_number="SN" + SECRET,
        problem=SECRET,
    )
    Device.objects.filter(pk=appointment.device_id).update(notes=SECRET)
    resource = add_staff(location, make_agent(brand), desk=SECRET)
    return {
        "location": location.pk,
        "service": service.pk,
        "resource": resource.pk,
        "appointment": appointment.pk,
        "device": appointment.device_id,
        "manage_token": manage_token(appointment),
    }


def routing_data(brand) -> int:
    """A skill named with the secret, required on the phone channel of ``brand``."""
    skill = Skill.objects.create(brand=brand, name=SECRET)
    return SkillRequirement.objects.create(brand=brand, skill=skill, channel="phone").pk


def survey_data(brand, conversation) -> dict:
    """An answered survey of the conversation, its comment the secret, and its follow-up."""
    contact = conversation.contacts.get()
    survey = Survey.objects.create(
        brand=brand,
        conversation=conversation,
        contact=contact,
        customer=conversation.customer,
        channel=contact.channel,
        source="automatic",
        status="answered",
        created_at=conversation.created_at,
        sent_at=conversation.created_at,
        csat=1,
        comment=SECRET,
    )
    follow_up = FollowUp.objects.create(
        brand=brand, survey=survey, reason="low", created_at=conversation.created_at
    )
    return {"follow_up": follow_up.pk, "contact": contact.pk}


def webhook_data(brand) -> dict:
    """A webhook endpoint of ``brand`` described with the secret, and one of its deliveries."""
    endpoint = WebhookEndpoint.objects.create(
        brand=brand,
        url="https://hooks.example.com/comptoir",
        description=SECRET,
        kinds=["message.created"],
        secret=f"whsec_{SECRET}",
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=Event.objects.filter(brand=brand).first(),
        kind="message.created",
        next_attempt_at=endpoint.created_at,
        response_excerpt=SECRET,
    )
    return {"endpoint": endpoint.pk, "delivery": delivery.pk}


def sla_data(brand) -> dict:
    """A calendar with a holiday and a policy of ``brand``, all named with the secret."""
    calendar = office_calendar(brand, name=SECRET)
    holiday = configure.add_holiday(calendar, date(2031, 7, 14), SECRET)
    policy = office_policy(brand, calendar, name=SECRET)
    return {"calendar": calendar.pk, "holiday": holiday.pk, "policy": policy.pk}


def assistant_data(brand) -> dict:
    """An intent and a knowledge-base article of ``brand``, both holding the secret."""
    intent = Intent.objects.create(
        brand=brand, name="secret", label=SECRET, training_phrases_fr=[SECRET]
    )
    article = KnowledgeArticle.objects.create(brand=brand, title=SECRET, body=SECRET)
    return {"intent": intent.pk, "article": article.pk}


def identity_resolution_data(brand, customer) -> dict:
    """An identity, an open duplicate proposal and a merge record of ``brand``.

    ``twin``: another customer of the brand (what a merge in the API names in its body).
    """
    twin = ingest_chat(brand, "twin").conversation.customer
    absorbed = ingest_chat(brand, "absorbed").conversation.customer
    first, second = sorted((customer.pk, twin.pk))
    proposal = DuplicateProposal.objects.create(
        brand=brand, customer_a_id=first, customer_b_id=second, score=0.9, reasons=[]
    )
    record = merge_customers(make_agent(brand, Role.SUPERVISOR), twin, absorbed)
    return {
        "identity": customer.identities.first().pk,
        "proposal": proposal.pk,
        "merge": record.pk,
        "twin": twin.pk,
    }


def messaging_accounts(brand, app_secret: str) -> str:
    """A WhatsApp and a Messenger account of ``brand``; its slug (what webhook URLs name)."""
    for provider in ("whatsapp", "messenger"):
        MessagingAccount.objects.create(
            brand=brand,
            provider=provider,
            external_id=f"{provider}-{brand.pk}",
            app_secret=app_secret,
            verify_token=SECRET,
        )
    return brand.slug


def phone_line(brand, secret: str) -> PhoneLine:
    return PhoneLine.objects.create(
        brand=brand,
        number=f"+3318000{brand.pk:04d}",
        webhook_secret=secret,
        twilio_auth_token=secret,
    )


def phone_data(brand, conversation) -> int:
    """A phone line of ``brand`` and a callback request holding the secret; the request's id."""
    phone_line(brand, "brand-secret")
    return CallbackRequest.objects.create(
        brand=brand,
        customer=conversation.customer,
        conversation=conversation,
        number="+33612345678",
        requested_for=conversation.created_at,
        note=SECRET,
    ).pk


# What signed webhook calls post (a valid payload naming no account).
SIGNED_BODY = b'{"object": "whatsapp_business_account", "entry": []}'


def url_for(name: str, case: Case, data: dict) -> str:
    if case.target is None:
        return reverse(name)
    if case.target == "brand":
        return reverse(name, kwargs={"brand_slug": data["brand"]})
    if case.target == "manage_token":
        return reverse(name, kwargs={"token": data["manage_token"]})
    if case.target == "portal_brand":
        return reverse(name, kwargs={"brand_slug": data["portal_brand"]})
    if case.target == "portal_code_link":
        return reverse(name, kwargs={"brand_slug": data["portal_brand"], "token": "x" * 43})
    if case.target == "tag":
        return reverse(
            name, kwargs={"conversation_id": data["conversation"], "tag_id": data["tag"]}
        )
    return reverse(name, kwargs={f"{case.target}_id": data[case.target]})


def credentials(client, case: Case, member) -> dict:
    """Log ``member`` in (console) or return the headers that act for them or their brand."""
    if case.auth == "session":
        client.force_login(member.user)
        return {}
    if case.auth == "token":
        _, key = ApiToken.issue(member, "permissions")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if case.auth == "visitor":
        # A visitor of the member's brand: a valid token, but nothing of another brand is theirs.
        token, _ = issue_visitor_token(member.brand_id)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if case.auth == "portal":
        # A customer of the member's brand, signed in to the portal: nothing of another
        # brand is theirs.
        portal_session(client, member.brand, "someone@elsewhere.example")
        return {}
    if case.auth == "signed":
        # Signed with the member's brand's own secrets.
        messaging_accounts(member.brand, "member-secret")
        phone_line(member.brand, "member-secret")
        return {
            "HTTP_X_HUB_SIGNATURE_256": signature_for(SIGNED_BODY, "member-secret"),
            "HTTP_X_COMPTOIR_SIGNATURE": generic_signature("member-secret", SIGNED_BODY),
            "HTTP_X_TWILIO_SIGNATURE": "c2lnbmVkIGJ5IGFub3RoZXIgYnJhbmQ=",
        }
    return {}


def call(client, case: Case, url: str, data: dict, **headers):
    if case.method == "delete":
        return client.delete(url, **headers)
    if case.auth == "signed":
        return client.post(url, data=SIGNED_BODY, content_type="application/json", **headers)
    if case.method in ("post", "put") and case.auth == "token":
        # Valid for every endpoint's schema, so that access (not validation) decides.
        body = {"text": "hello", "assignee_id": None, "kind": "email", "value": "x@example.org"}
        body["absorbed_id"] = data["twin"]
        body["advisor_id"] = None
        body["availability"] = "available"
        body["number"] = "+33612345679"
        body |= {"name": "checked", "label": "Checked", "title": "Checked", "language": "en"}
        body["body"] = "Checked."
        body["csat"] = 5
        body["tags"] = ["checked"]
        body["starts_at"] = "2031-06-09T10:00:00+02:00"
        body |= {"enabled": False, "confidence_threshold": 0.5, "answer_channels": []}
        body |= {"action_base_url": "", "timeout_seconds": 5}
        body |= {"url": "https://8.8.8.8/hooks", "kinds": ["message.created"]}
        send = client.put if case.method == "put" else client.post
        return send(url, data=body, content_type="application/json", **headers)
    if case.method == "post":
        # As console.js posts: refusals are answered with their status, not a redirect.
        return client.post(url, data={"text": "hello"}, HTTP_X_REQUESTED_WITH="fetch", **headers)
    return client.get(url, **headers)


def body_of(response) -> bytes:
    """The whole body, streamed (a CSV export) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


PROTECTED = sorted(name for name, case in CASES.items() if case.auth != "public")
MEMBERS_ONLY = sorted(name for name, case in CASES.items() if case.auth in ("session", "token"))
# Every (URL, role below the one it needs) pair.
LOWER_ROLES = [
    (name, lower)
    for name, case in sorted(CASES.items())
    for lower in ROLE_ORDER[: ROLE_ORDER.index(case.role)]
]


@pytest.mark.parametrize("name", PROTECTED)
def test_anonymous_caller_is_turned_away(client, secret_data, name):
    case = CASES[name]
    response = call(client, case, url_for(name, case, secret_data), secret_data)
    if case.auth == "session":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:login"))
    elif case.auth == "portal":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:home"))
    else:
        assert response.status_code == 401
    assert SECRET.encode() not in body_of(response)


@pytest.mark.parametrize("name", PROTECTED)
def test_member_of_another_brand_sees_nothing(client, secret_data, other_brand, name):
    """Even with the role the URL needs: another brand's objects do not exist for them (404)."""
    case = CASES[name]
    outsider = make_agent(other_brand, case.role, first_name="Eve")
    headers = credentials(client, case, outsider)
    response = call(client, case, url_for(name, case, secret_data), secret_data, **headers)
    if case.target == "brand":
        # A webhook signed with another brand's secret: refused as badly signed.
        assert response.status_code == 403, response.status_code
    elif case.target is not None:
        assert response.status_code == 404, response.status_code
    else:
        assert response.status_code < 500
    assert SECRET.encode() not in body_of(response)


@pytest.mark.parametrize(("name", "lower_role"), LOWER_ROLES)
def test_a_lower_role_of_the_brand_is_refused(client, secret_data, brand, name, lower_role):
    case = CASES[name]
    member = make_agent(brand, lower_role, first_name="Lou")
    headers = credentials(client, case, member)
    response = call(client, case, url_for(name, case, secret_data), secret_data, **headers)
    assert response.status_code == 403, response.status_code
    assert SECRET.encode() not in body_of(response)


@pytest.mark.parametrize("name", MEMBERS_ONLY)
def test_the_role_the_url_needs_is_enough(client, secret_data, brand, name):
    """The table's roles are not too high: a member of the brand with exactly that role gets in."""
    case = CASES[name]
    member = make_agent(brand, case.role, first_name="Max")
    headers = credentials(client, case, member)
    if case.target in PRIVATE_TARGETS:
        secret_data = {**secret_data, case.target: PRIVATE_TARGETS[case.target](member)}
    response = call(client, case, url_for(name, case, secret_data), secret_data, **headers)
    assert response.status_code not in (401, 403, 404), response.status_code
    assert response.status_code < 500


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.target in PRIVATE_TARGETS))
def test_another_agent_of_the_brand_does_not_see_a_private_object(client, secret_data, brand, name):
    """Even an administrator of the same brand: another agent's saved view does not exist (404)."""
    case = CASES[name]
    administrator = make_agent(brand, Role.ADMIN, first_name="Ada")
    headers = credentials(client, case, administrator)
    response = call(client, case, url_for(name, case, secret_data), secret_data, **headers)
    assert response.status_code == 404, response.status_code


def test_django_admin_is_for_platform_operators_only(agent_client):
    response = agent_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- WebSocket routes -----------------------------------------------------------------------
#
# The same rule for the real-time layer (``comptoir.realtime.routing``): every route has a
# case below, and each case is tested through the real ASGI stack (origin check, session
# cookie, token) against a caller without credentials, a caller without a seat in any brand
# (a deactivated agent; a widget token past its lifetime) and a member of another brand, who
# must receive none of this brand's events.


@dataclass(frozen=True)
class SocketCase:
    """``auth``: "session" (the console's cookie), "visitor" (the widget's token),
    "booking" (an appointment's signed token in the path: its waiting room) or "lobby"
    (the console's cookie, a location of the member's brand in the path)."""

    auth: str


SOCKET_CASES: dict[str, SocketCase] = {
    "/ws/console/": SocketCase("session"),
    "/ws/widget/": SocketCase("visitor"),
    "/ws/appointments/<str:token>/": SocketCase("booking"),
    "/ws/lobby/<int:location_id>/": SocketCase("lobby"),
}


def websocket_routes() -> set[str]:
    """Every path the routing module's ASGI applications route, found by walking them."""
    from channels.routing import URLRouter

    from comptoir.realtime import routing

    found: set[str] = set()

    def walk(app, seen: set[int]) -> None:
        if id(app) in seen:
            return
        seen.add(id(app))
        if isinstance(app, URLRouter):
            for route in app.routes:
                found.add("/" + str(route.pattern))
            return
        for attribute in ("application", "inner", "app"):
            inner = getattr(app, attribute, None)
            if inner is not None:
                walk(inner, seen)

    for value in vars(routing).values():
        walk(value, set())
    return found


def test_every_websocket_route_has_a_permission_case():
    routes = websocket_routes()
    print(f"\nWebSocket routes covered: {len(routes)} ({', '.join(sorted(routes))})")
    assert routes == set(SOCKET_CASES)


def _socket_for(path: str, case: SocketCase, credential: str | None, location_id: int = 0):
    """A communicator through the whole ASGI application, with the credential the case needs."""
    from channels.testing import WebsocketCommunicator

    from comptoir.asgi import application

    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if case.auth == "booking":
        path = f"/ws/appointments/{credential}/"
        return WebsocketCommunicator(application, path, headers=headers)
    if case.auth == "lobby":
        path = f"/ws/lobby/{location_id}/"
    if case.auth in ("session", "lobby"):
        if credential:
            headers.append((b"cookie", f"sessionid={credential}".encode()))
        return WebsocketCommunicator(application, path, headers=headers)
    query = f"?token={credential}" if credential else ""
    return WebsocketCommunicator(application, f"{path}{query}", headers=headers)


def _session_of(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def _refused(communicator, code: int = 4401) -> bool:
    """Closed with ``code`` (after an error frame), or never accepted."""
    from tests.factories import WS_TIMEOUT

    connected, _ = await communicator.connect(timeout=WS_TIMEOUT)
    if not connected:
        return True
    frame = await communicator.receive_json_from(timeout=WS_TIMEOUT)
    closing = await communicator.receive_output(timeout=WS_TIMEOUT)
    return frame["type"] == "error" and closing.get("code") == code


def _booking(brand):
    """A booking at a shop of ``brand``: (location, appointment)."""
    from comptoir.appointments.actions import available_slots, book_appointment
    from tests.appointment_helpers import diagnosis, shop

    location, service = shop(brand), diagnosis(brand)
    customer = ingest_chat(brand, "Rendez-vous").conversation.customer
    now = timezone.now()
    slot = available_slots(location, service, now, now + timedelta(days=14))[0]
    return location, book_appointment(location, service, slot.starts_at, customer=customer)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(SOCKET_CASES))
async def test_a_socket_without_credentials_is_refused(path):
    case = SOCKET_CASES[path]
    if case.auth == "booking":  # a token that is no booking's
        assert await _refused(_socket_for(path, case, "x" * 40))
        return
    assert await _refused(_socket_for(path, case, None, location_id=1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(SOCKET_CASES))
async def test_a_socket_without_a_seat_is_refused(path, settings):
    """A deactivated agent's session; a widget token past ``WIDGET_TOKEN_MAX_AGE``."""
    from channels.db import database_sync_to_async

    from comptoir.appointments.actions import cancel_appointment
    from comptoir.appointments.links import manage_token
    from comptoir.widget.tokens import issue_visitor_token
    from tests.factories import make_brand

    case = SOCKET_CASES[path]
    brand = await database_sync_to_async(make_brand)()
    location_id = 0
    if case.auth in ("session", "lobby"):
        member = await database_sync_to_async(make_agent)(brand)
        credential = await database_sync_to_async(_session_of)(member.user)
        member.is_active = False
        await database_sync_to_async(member.save)(update_fields=["is_active"])
        if case.auth == "lobby":
            location, _ = await database_sync_to_async(_booking)(brand)
            location_id = location.pk
    elif case.auth == "booking":  # the token of a booking that was cancelled
        _, appointment = await database_sync_to_async(_booking)(brand)
        await database_sync_to_async(cancel_appointment)(appointment)
        credential = manage_token(appointment)
    else:
        credential, _ = issue_visitor_token(brand.pk, "e" * 32)
        settings.WIDGET_TOKEN_MAX_AGE = -1
    assert await _refused(_socket_for(path, case, credential, location_id))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(SOCKET_CASES))
async def test_a_socket_of_another_brand_receives_nothing(path):
    """Not on resume from the start of the log, not live: no frame of this brand's events."""
    from channels.db import database_sync_to_async

    from comptoir.conversations.actions import send_reply
    from comptoir.widget.tokens import issue_visitor_token
    from tests.factories import WS_TIMEOUT, make_brand

    case = SOCKET_CASES[path]
    brand, other = (
        await database_sync_to_async(make_brand)(),
        await database_sync_to_async(make_brand)(),
    )
    if case.auth in ("booking", "lobby"):
        await _another_brands_waiting_room_sees_nothing(case, brand, other)
        return
    visitor_id = "f" * 32
    message = await database_sync_to_async(ingest_chat)(brand, SECRET, visitor_id=visitor_id)
    if case.auth == "session":
        outsider = await database_sync_to_async(make_agent)(other, Role.ADMIN)
        credential = await database_sync_to_async(_session_of)(outsider.user)
    else:
        # The same visitor id, in another brand's token.
        credential, _ = issue_visitor_token(other.pk, visitor_id)
    socket = _socket_for(path, case, credential)
    connected, _ = await socket.connect(timeout=WS_TIMEOUT)
    assert connected
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
        frames.append(frame)
        if frame["type"] == "resumed":
            break
    assert SECRET not in str(frames)
    agent = await database_sync_to_async(make_agent)(brand)
    await database_sync_to_async(send_reply)(agent, message.conversation, f"reply {SECRET}")
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def _another_brands_waiting_room_sees_nothing(case: SocketCase, brand, other) -> None:
    """Another brand's booking is not nudged by this brand's line; its staff's lobby is refused."""
    from channels.db import database_sync_to_async

    from comptoir.appointments.actions import add_walk_in
    from comptoir.appointments.links import manage_token
    from tests.factories import WS_TIMEOUT

    location, appointment = await database_sync_to_async(_booking)(brand)
    if case.auth == "lobby":
        outsider = await database_sync_to_async(make_agent)(other, Role.ADMIN)
        credential = await database_sync_to_async(_session_of)(outsider.user)
        socket = _socket_for("", case, credential, location.pk)
        assert await _refused(socket, code=4403)
        return
    _, theirs = await database_sync_to_async(_booking)(other)
    socket = _socket_for("", case, manage_token(theirs))
    connected, _ = await socket.connect(timeout=WS_TIMEOUT)
    assert connected
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["type"] == "ready"
    # This brand's line moves (a walk-in joins it): nothing reaches the other brand's page.
    staff = await database_sync_to_async(make_agent)(brand)
    await database_sync_to_async(add_walk_in)(
        location, appointment.service, by=staff, first_name="Léa"
    )
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()

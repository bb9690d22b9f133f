"""A survey on WhatsApp and Messenger: its scores as one-tap buttons, a tap is the answer.

Against a local HTTP server standing in for the Graph API (``tests.test_messaging``).
"""

from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import AuthorKind, Message, Status
from comptoir.surveys.actions import send_by_hand
from comptoir.surveys.models import SurveyStatus
from comptoir.tasks import run_pending
from tests.test_messaging import (  # noqa: F401 — the Graph API stand-in and its accounts
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    WA_ID,
    fb_account,
    fb_event,
    fb_payload,
    graph,
    post_fb,
    post_wa,
    wa_account,
    wa_payload,
    wa_text,
)
from tests.test_surveys import surveys  # noqa: F401 — the brand's survey settings


def wa_tap(wamid: str, row_id: str, title: str, sender: str = WA_ID) -> dict:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1700000000",
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
    }


def surveyed_on_whatsapp(client, brand, agent, graph):  # noqa: F811
    graph.respond(
        "POST", f"/v21.0/{PHONE_NUMBER_ID}/messages", json_body={"messages": [{"id": "wamid.OUT"}]}
    )
    post_wa(client, brand, wa_payload([wa_text("wamid.IN1", "Où est ma commande ?")]))
    conversation = Message.objects.get(external_id="wamid.IN1").conversation
    resolve_conversation(agent, conversation)
    survey = send_by_hand(agent, conversation, source="agent")
    run_pending()
    return survey, conversation


def test_whatsapp_survey_is_a_list_of_scores_and_a_tap_answers_it(
    client,
    brand,
    agent,
    graph,  # noqa: F811
    wa_account,  # noqa: F811
    surveys,  # noqa: F811
):
    survey, conversation = surveyed_on_whatsapp(client, brand, agent, graph)
    (request,) = graph.requests_to(f"/v21.0/{PHONE_NUMBER_ID}/messages")
    sent = request.json()
    assert sent["type"] == "interactive"
    assert "/s/" in sent["interactive"]["body"]["text"]  # the link stays
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == ["5 ★★★★★", "4 ★★★★", "3 ★★★", "2 ★★", "1 ★"]
    four = rows[1]
    customer_messages = Message.objects.filter(author_kind=AuthorKind.CUSTOMER).count()

    response = post_wa(client, brand, wa_payload([wa_tap("wamid.TAP1", four["id"], four["title"])]))
    assert response.status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.csat) == (SurveyStatus.ANSWERED, 4)
    # An answer, not a message: the resolved conversation stays resolved, nothing queued.
    assert Message.objects.filter(author_kind=AuthorKind.CUSTOMER).count() == customer_messages
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    thanks = Message.objects.filter(conversation=conversation).latest("pk")
    assert (thanks.author_kind, thanks.direction, thanks.channel) == ("system", "out", "whatsapp")

    # A second tap changes nothing and is not thanked twice.
    post_wa(client, brand, wa_payload([wa_tap("wamid.TAP2", rows[4]["id"], rows[4]["title"])]))
    survey.refresh_from_db()
    assert survey.csat == 4
    assert Message.objects.filter(conversation=conversation).latest("pk") == thanks


def test_a_tap_from_someone_else_or_a_forged_id_answers_nothing(
    client,
    brand,
    agent,
    graph,  # noqa: F811
    wa_account,  # noqa: F811
    surveys,  # noqa: F811
):
    survey, _ = surveyed_on_whatsapp(client, brand, agent, graph)
    rows = graph.requests_to(f"/v21.0/{PHONE_NUMBER_ID}/messages")[0].json()["interactive"][
        "action"
    ]["sections"][0]["rows"]
    stranger = "33700000000"
    post_wa(client, brand, wa_payload([wa_tap("wamid.X1", rows[0]["id"], "5", sender=stranger)]))
    forged = rows[0]["id"].rsplit(":", 2)[0] + ":not-the-nonce:5"
    post_wa(client, brand, wa_payload([wa_tap("wamid.X2", forged, "5")]))
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    # Not answers: the stranger's tap is an ordinary message of theirs, kept for an agent.
    assert Message.objects.filter(external_id="wamid.X1", author_kind="customer").exists()


def test_messenger_survey_has_quick_replies_and_a_tap_answers_it(
    client,
    brand,
    agent,
    graph,  # noqa: F811
    fb_account,  # noqa: F811
    surveys,  # noqa: F811
):
    graph.respond("POST", "/v21.0/me/messages", json_body={"message_id": "m_OUT"})
    post_fb(client, brand, fb_payload(fb_event(message={"mid": "m_IN", "text": "Bonjour"})))
    conversation = Message.objects.get(external_id="m_IN").conversation
    resolve_conversation(agent, conversation)
    survey = send_by_hand(agent, conversation, source="agent")
    run_pending()
    (request,) = graph.requests_to("/v21.0/me/messages")
    quick = request.json()["message"]["quick_replies"]
    assert [reply["title"] for reply in quick] == ["5 ★★★★★", "4 ★★★★", "3 ★★★", "2 ★★", "1 ★"]
    tap = fb_event(
        message={"mid": "m_TAP", "text": "2 ★★", "quick_reply": {"payload": quick[3]["payload"]}}
    )
    assert post_fb(client, brand, fb_payload(tap)).status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.csat) == (SurveyStatus.ANSWERED, 2)
    assert not Message.objects.filter(external_id="m_TAP").exists()

"""Tags on conversations: the actions, the console (thread, inbox, bulk), search, API, imports.

A brand's tags are its own: another brand's agent can neither see, filter by,
nor remove them, and the same name in two brands is two tags.
"""

import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from comptoir.conversations.models import Attachment, ConversationTag, Status, Tag
from comptoir.conversations.tags import (
    TagError,
    set_conversation_tags,
    tag_conversation,
    tag_names,
    untag_conversation,
)
from comptoir.events.models import Event
from comptoir.moving_in import chatwoot, zendesk
from comptoir.moving_in.importer import import_export
from comptoir.tenancy.models import ApiToken
from tests.factories import ingest_chat

FIXTURES = Path(__file__).parent / "fixtures"


def conversation_of(brand, text="Bonjour"):
    return ingest_chat(brand, text).conversation


# --- Actions ---------------------------------------------------------------------------------


def test_a_tag_is_one_per_brand_whatever_the_case_and_tagging_twice_changes_nothing(brand, agent):
    conversation = conversation_of(brand)
    tag, added = tag_conversation(agent, conversation, "  Remboursement  ")
    again, added_again = tag_conversation(agent, conversation, "REMBOURSEMENT")

    assert (added, added_again) == (True, False)
    assert again.pk == tag.pk
    assert tag.name == "Remboursement"  # as first written, spaces trimmed
    assert Tag.objects.filter(brand=brand).count() == 1
    events = Event.objects.filter(kind="conversation.tagged", conversation=conversation)
    assert events.count() == 1
    assert events.get().payload["tags"] == ["Remboursement"]
    assert events.get().actor_id == agent.pk


def test_untagging_appends_its_event_and_keeps_the_brand_tag(brand, agent):
    conversation = conversation_of(brand)
    tag, _ = tag_conversation(agent, conversation, "vip")
    tag_conversation(agent, conversation, "colis")

    assert untag_conversation(agent, conversation, tag) is True
    assert untag_conversation(agent, conversation, tag) is False

    event = Event.objects.get(kind="conversation.untagged", conversation=conversation)
    assert event.payload["tag"] == "vip"
    assert event.payload["tags"] == ["colis"]
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_a_blank_or_too_long_name_is_refused(brand, agent):
    conversation = conversation_of(brand)
    with pytest.raises(TagError):
        tag_conversation(agent, conversation, "   ")
    with pytest.raises(TagError):
        tag_conversation(agent, conversation, "x" * 51)
    assert not Tag.objects.exists()


def test_card_numbers_never_become_a_tag_name(brand, agent):
    tag, _ = tag_conversation(agent, conversation_of(brand), "4111 1111 1111 1111")
    assert "4111 1111 1111 1111" not in tag.name


def test_another_brands_tag_cannot_be_taken_off_here(brand, other_brand, agent, outsider):
    ours = conversation_of(brand)
    theirs = conversation_of(other_brand)
    their_tag, _ = tag_conversation(outsider, theirs, "vip")
    with pytest.raises(TagError):
        untag_conversation(agent, ours, their_tag)


def test_the_same_name_in_two_brands_is_two_tags(brand, other_brand, agent, outsider):
    ours, _ = tag_conversation(agent, conversation_of(brand), "vip")
    theirs, _ = tag_conversation(outsider, conversation_of(other_brand), "VIP")
    assert ours.pk != theirs.pk


def test_setting_the_tags_adds_and_removes_with_one_event_each(brand, agent):
    conversation = conversation_of(brand)
    tag_conversation(agent, conversation, "ancien")
    tag_conversation(agent, conversation, "colis")

    assert set_conversation_tags(agent, conversation, ["Colis", "urgent"]) == ["colis", "urgent"]
    kinds = list(
        Event.objects.filter(conversation=conversation, kind__startswith="conversation.")
        .filter(kind__in=["conversation.tagged", "conversation.untagged"])
        .values_list("kind", "payload__tag")
        .order_by("pk")
    )
    assert kinds[-2:] == [("conversation.untagged", "ancien"), ("conversation.tagged", "urgent")]


# --- Console ---------------------------------------------------------------------------------


def test_an_agent_tags_and_untags_from_the_conversation_page(agent_client, brand):
    conversation = conversation_of(brand)
    url = reverse("console:tag_add", args=[conversation.pk])

    response = agent_client.post(url, {"name": "Livraison"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    tag = Tag.objects.get(brand=brand)
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk]))
    assert b"Livraison" in page.content
    assert reverse("console:tag_remove", args=[conversation.pk, tag.pk]).encode() in page.content

    remove = reverse("console:tag_remove", args=[conversation.pk, tag.pk])
    assert agent_client.post(remove, HTTP_X_REQUESTED_WITH="fetch").status_code == 204
    assert tag_names(conversation) == []


def test_a_blank_tag_is_answered_with_a_reason(agent_client, brand):
    conversation = conversation_of(brand)
    response = agent_client.post(
        reverse("console:tag_add", args=[conversation.pk]),
        {"name": " "},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400
    assert "tag" in response.content.decode()


def test_the_inbox_shows_tags_and_offers_the_brands_tags_only(
    agent_client, brand, other_brand, agent, outsider
):
    conversation = conversation_of(brand)
    tag_conversation(agent, conversation, "Remboursement")
    tag_conversation(outsider, conversation_of(other_brand), "Concurrent-secret")

    page = agent_client.get(reverse("console:inbox")).content.decode()
    assert '<span class="chip chip--tag" data-tag>Remboursement</span>' in page
    assert "Concurrent-secret" not in page


def test_tag_names_are_escaped(agent_client, brand, agent):
    tag_conversation(agent, conversation_of(brand), "<b>gras</b>")
    page = agent_client.get(reverse("console:inbox")).content.decode()
    assert "<b>gras</b>" not in page
    assert "&lt;b&gt;gras&lt;/b&gt;" in page


def test_bulk_actions_assign_tag_and_resolve_the_ticked_conversations(
    agent_client, brand, agent, colleague
):
    first, second = conversation_of(brand, "Un"), ingest_chat(brand, "Deux")
    second = second.conversation
    url = reverse("console:bulk")
    ticked = [first.pk, second.pk]

    agent_client.post(url, {"conversation": ticked, "action": "tag", "tag": "Lot"})
    agent_client.post(url, {"conversation": ticked, "action": "assign", "assignee": colleague.pk})
    response = agent_client.post(url, {"conversation": ticked, "action": "resolve"})

    assert response.status_code == 302
    for conversation in (first, second):
        conversation.refresh_from_db()
        assert tag_names(conversation) == ["Lot"]
        assert conversation.assignee_id == colleague.pk
        assert conversation.status == Status.RESOLVED


def test_bulk_resolve_counts_what_it_left_alone(agent_client, brand, agent):
    conversation = conversation_of(brand)
    agent_client.post(reverse("console:resolve", args=[conversation.pk]))
    response = agent_client.post(
        reverse("console:bulk"),
        {"conversation": [conversation.pk], "action": "resolve"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400
    assert "1" in response.content.decode()


def test_bulk_on_another_brands_conversation_is_a_404_and_changes_nothing(
    outsider_client, brand, other_brand, outsider
):
    theirs = conversation_of(other_brand)
    ours = conversation_of(brand)
    response = outsider_client.post(
        reverse("console:bulk"),
        {"conversation": [theirs.pk, ours.pk], "action": "tag", "tag": "pris"},
    )
    assert response.status_code == 404
    assert not ConversationTag.objects.exists()


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999999", "-1"])
def test_bulk_refuses_ids_that_cannot_be_a_row(agent_client, brand, value):
    response = agent_client.post(
        reverse("console:bulk"), {"conversation": [value], "action": "resolve"}
    )
    assert response.status_code == 404


# --- Search ----------------------------------------------------------------------------------


def test_search_filters_by_tag_in_any_case_and_never_by_another_brands(
    agent_client, brand, other_brand, agent, outsider
):
    tagged = conversation_of(brand, "Mon colis")
    ingest_chat(brand, "Autre chose")
    tag_conversation(agent, tagged, "Colis")
    tag_conversation(outsider, conversation_of(other_brand), "secret-rival")

    page = agent_client.get(reverse("search:console"), {"tag": "COLIS"})
    assert page.status_code == 200
    assert [hit.conversation.pk for hit in page.context["results"].hits] == [tagged.pk]
    assert "secret-rival" not in page.content.decode()
    rival = agent_client.get(reverse("search:console"), {"tag": "secret-rival"})
    assert rival.context["results"].total == 0


# --- API -------------------------------------------------------------------------------------


def bearer(membership) -> dict:
    _, key = ApiToken.issue(membership, "tags")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_the_api_sets_reads_and_filters_by_tags(client, brand, agent):
    conversation = conversation_of(brand)
    headers = bearer(agent)

    response = client.put(
        f"/api/conversations/{conversation.pk}/tags",
        data={"tags": ["vip", "Colis"]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["Colis", "vip"]
    listed = client.get("/api/conversations", {"tag": "VIP"}, **headers).json()
    assert [item["id"] for item in listed["items"]] == [conversation.pk]
    assert listed["items"][0]["tags"] == ["Colis", "vip"]
    found = client.get("/api/search", {"tag": "colis"}, **headers).json()
    assert [hit["conversation"]["id"] for hit in found["items"]] == [conversation.pk]


def test_the_api_refuses_a_blank_tag(client, brand, agent):
    conversation = conversation_of(brand)
    response = client.put(
        f"/api/conversations/{conversation.pk}/tags",
        data={"tags": ["  "]},
        content_type="application/json",
        **bearer(agent),
    )
    assert response.status_code == 400
    assert not Tag.objects.exists()


def test_another_brands_token_cannot_tag_nor_filter_here(client, brand, agent, outsider):
    conversation = conversation_of(brand)
    tag_conversation(agent, conversation, "vip")
    response = client.put(
        f"/api/conversations/{conversation.pk}/tags",
        data={"tags": ["pris"]},
        content_type="application/json",
        **bearer(outsider),
    )
    assert response.status_code == 404
    listed = client.get("/api/conversations", {"tag": "vip"}, **bearer(outsider)).json()
    assert listed["items"] == []


# --- Imports ---------------------------------------------------------------------------------


def test_zendesk_tags_and_chatwoot_labels_become_tags_once(brand):
    import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))
    import_export(brand, "chatwoot", chatwoot.read_export(FIXTURES / "chatwoot"))
    import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))

    assert set(Tag.objects.filter(brand=brand).values_list("name", flat=True)) == {
        "livraison",
        "colis",
        "remboursement",
    }
    ticket = Tag.objects.get(name="livraison").conversations.get()
    assert tag_names(ticket) == ["colis", "livraison"]
    assert ConversationTag.objects.count() == 3
    # Imported history appends no live tag events.
    assert not Event.objects.filter(kind="conversation.tagged").exists()


def test_zendesk_attachments_come_as_metadata_without_fetching_their_url(brand):
    import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))
    attachment = Attachment.objects.get(filename="suivi.pdf")
    assert (attachment.content_type, attachment.size, bool(attachment.file)) == (
        "application/pdf",
        20480,
        False,
    )
    assert "content_url" not in attachment.message.text
    assert "maison.zendesk.com" not in attachment.message.text


def test_a_file_the_export_holds_is_kept_after_the_policy(brand, tmp_path, agent_client):
    export = tmp_path / "zendesk"
    shutil.copytree(FIXTURES / "zendesk", export)
    (export / "attachments" / "77").mkdir(parents=True)
    (export / "attachments" / "77" / "suivi.pdf").write_bytes(b"%PDF-1.4 suivi")

    import_export(brand, "zendesk", zendesk.read_export(export))

    attachment = Attachment.objects.get(filename="suivi.pdf")
    assert attachment.size == len(b"%PDF-1.4 suivi")
    response = agent_client.get(reverse("console:attachment", args=[attachment.pk]))
    assert b"".join(response.streaming_content) == b"%PDF-1.4 suivi"


def test_a_refused_file_keeps_only_its_name_and_a_program_is_left_out(brand, tmp_path):
    export = tmp_path / "zendesk"
    shutil.copytree(FIXTURES / "zendesk", export)
    (export / "attachments" / "77").mkdir(parents=True)
    # Says PDF, starts like a Windows program.
    (export / "attachments" / "77" / "suivi.pdf").write_bytes(b"MZ\x90\x00 not a pdf")
    tickets = (export / "tickets.json").read_text(encoding="utf-8")
    tickets = tickets.replace('"suivi.pdf"', '"suivi.pdf"', 1).replace(
        '"size": 20480}',
        '"size": 20480}, {"id": 78, "file_name": "facture.pdf.exe", '
        '"content_type": "application/pdf", "size": 10}',
        1,
    )
    (export / "tickets.json").write_text(tickets, encoding="utf-8")

    report = import_export(brand, "zendesk", zendesk.read_export(export))

    attachment = Attachment.objects.get(filename="suivi.pdf")
    assert not attachment.file
    assert not Attachment.objects.filter(filename__startswith="facture").exists()
    reasons = [skip.reason for skip in report.skipped]
    assert "attachment 'suivi.pdf': file refused, its name kept" in reasons
    assert "attachment 'facture.pdf.exe' refused by the policy" in reasons


def test_an_imported_attachment_without_its_file_shows_its_name_without_a_link(agent_client, brand):
    import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))
    attachment = Attachment.objects.get(filename="suivi.pdf")
    page = agent_client.get(
        reverse("console:conversation", args=[attachment.message.conversation_id])
    )
    assert b"data-imported-name" in page.content
    assert reverse("console:attachment", args=[attachment.pk]).encode() not in page.content
    missing = agent_client.get(reverse("console:attachment", args=[attachment.pk]))
    assert missing.status_code == 404

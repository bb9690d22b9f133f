"""Tags on conversations: the brand's list of labels and the actions that put them on and off.

A tag belongs to one brand; its name is compared without case or repeated
spaces (``tag_key``), so "VIP" and "vip " are one tag. Agents tag and untag
from the console (one conversation, or many from the inbox), integrators from
the API; each change appends ``conversation.tagged`` or
``conversation.untagged`` (published: consoles refresh, webhooks may subscribe).
Moving in attaches the source's tags with ``attach_imported_tags``, without
events: the import's own ``conversation.imported`` stands for them, as for its
past messages.
"""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from comptoir.conversations.models import Conversation, ConversationTag, Tag
from comptoir.conversations.state import ConversationStateError, lock_conversation
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Membership

TAG_MAX_LENGTH = 50


class TagError(ConversationStateError):
    """A tag name that cannot be used (blank, too long)."""


def clean_tag_name(name: str) -> str:
    """The name as shown: spaces collapsed, card numbers masked, or TagError."""
    cleaned = mask_card_numbers(" ".join(str(name).split()))
    if not cleaned:
        raise TagError("a tag needs a name")
    if len(cleaned) > TAG_MAX_LENGTH:
        raise TagError(f"a tag name has at most {TAG_MAX_LENGTH} characters")
    return cleaned


def tag_key(name: str) -> str:
    """What makes two names one tag: case and repeated spaces do not count."""
    return " ".join(str(name).split()).casefold()[:TAG_MAX_LENGTH]


def find_or_create_tag(brand_id: int, name: str) -> Tag:
    """The brand's tag of that name (as first written), created if new."""
    cleaned = clean_tag_name(name)
    key = tag_key(cleaned)
    tag = Tag.objects.filter(brand_id=brand_id, key=key).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(brand_id=brand_id, name=cleaned, key=key)
    except IntegrityError:  # created meanwhile by another writer
        return Tag.objects.get(brand_id=brand_id, key=key)


def tag_names(conversation: Conversation) -> list[str]:
    """The conversation's tags by name, alphabetically (one query)."""
    return sorted(
        Tag.objects.filter(links__conversation=conversation).values_list("name", flat=True),
        key=str.casefold,
    )


def _tag_event(conversation: Conversation, tag: Tag) -> dict[str, Any]:
    return {
        "conversation_id": conversation.pk,
        "customer_id": conversation.customer_id,
        "tag_id": tag.pk,
        "tag": tag.name,
        "tags": tag_names(conversation),
    }


def tag_conversation(
    actor: Membership | None, conversation: Conversation, name: str
) -> tuple[Tag, bool]:
    """Put the tag named ``name`` on the conversation; whether it was not there yet.

    ``actor``: the agent (or the API token's agent); None is Comptoir itself.
    Tagging twice changes nothing and appends no event.
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        tag = find_or_create_tag(conversation.brand_id, name)
        _, added = ConversationTag.objects.get_or_create(
            conversation=conversation,
            tag=tag,
            defaults={
                "brand_id": conversation.brand_id,
                "added_by": actor,
                "added_at": timezone.now(),
            },
        )
        if added:
            append_event(
                conversation.brand_id,
                kinds.CONVERSATION_TAGGED,
                _tag_event(conversation, tag),
                actor=Actor.agent_or(actor, SYSTEM),
                conversation=conversation,
                customer=conversation.customer,
            )
    return tag, added


def untag_conversation(actor: Membership | None, conversation: Conversation, tag: Tag) -> bool:
    """Take ``tag`` off the conversation; whether it was there (no event otherwise).

    The tag stays in the brand's list (other conversations may carry it).
    """
    if tag.brand_id != conversation.brand_id:
        raise TagError("this tag belongs to another brand")
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        removed, _ = ConversationTag.objects.filter(conversation=conversation, tag=tag).delete()
        if removed:
            append_event(
                conversation.brand_id,
                kinds.CONVERSATION_UNTAGGED,
                _tag_event(conversation, tag),
                actor=Actor.agent_or(actor, SYSTEM),
                conversation=conversation,
                customer=conversation.customer,
            )
    return bool(removed)


def set_conversation_tags(
    actor: Membership | None, conversation: Conversation, names: Iterable[str]
) -> list[str]:
    """Exactly these tags on the conversation (the API's PUT): one event per change."""
    wanted = {tag_key(clean_tag_name(name)): name for name in names}
    with transaction.atomic():
        current = {
            link.tag.key: link.tag
            for link in ConversationTag.objects.filter(conversation=conversation).select_related(
                "tag"
            )
        }
        for key, tag in current.items():
            if key not in wanted:
                untag_conversation(actor, conversation, tag)
        for key, name in wanted.items():
            if key not in current:
                tag_conversation(actor, conversation, name)
        return tag_names(conversation)


def attach_imported_tags(
    conversation: Conversation, names: Iterable[str], known: dict[str, Tag] | None = None
) -> None:
    """The source's tags on an imported conversation (no event; unusable names skipped).

    Called inside the import's transaction. ``known`` (key → tag) spares the
    look-up of tags an import already met; a tag already on it stays as it was.
    """
    known = {} if known is None else known
    links = {}
    for name in names:
        try:
            key = tag_key(clean_tag_name(name))
        except TagError:
            continue
        if key not in known:
            known[key] = find_or_create_tag(conversation.brand_id, name)
        links[key] = ConversationTag(
            brand_id=conversation.brand_id,
            conversation=conversation,
            tag=known[key],
            added_at=conversation.created_at,
        )
    if links:
        ConversationTag.objects.bulk_create(links.values(), ignore_conflicts=True)

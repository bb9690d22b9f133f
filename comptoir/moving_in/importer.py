"""Store what an export was read into: customers through identity resolution, then history.

The same for every source. Customers are found or created by
``customers.resolution`` (the resolver live traffic uses), so a customer
imported today who writes tomorrow from the same address or number is
recognised, and one who already wrote is merged with, not duplicated.
Conversations and their past messages go through
``conversations.history.store_past_conversation``. Each person and each
conversation is stored in its own savepoint with its ``ImportedRecord``, and
committed ``BATCH_SIZE`` conversations at a time: a second run imports nothing
twice, an interrupted run resumes after the last batch committed, and a row
that cannot be stored is reported (its savepoint rolled back), never fatal.
The records of earlier runs are read once, at the start.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from comptoir.conversations.attachment_policy import (
    attachment_allowed,
    declared_type_allowed,
    name_allowed,
)
from comptoir.conversations.history import (
    PastAttachment,
    PastConversation,
    PastMessage,
    store_past_conversation,
)
from comptoir.conversations.models import AuthorKind, Conversation, Tag
from comptoir.customers.identities import InvalidIdentity
from comptoir.customers.lookup import find_identities
from comptoir.customers.models import Customer
from comptoir.customers.resolution import normalise_claims, resolve_claims
from comptoir.moving_in.models import ImportedRecord
from comptoir.moving_in.records import Export, Person, Skip, Thread, ThreadAttachment
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Brand, Membership

logger = logging.getLogger(__name__)


def _read_file(path: Path) -> bytes | None:
    """The file's bytes, unless it is larger than any attachment may be."""
    if path.stat().st_size > settings.ATTACHMENT_MAX_BYTES:
        return None
    return path.read_bytes()


# Conversations stored per transaction: a commit is the costliest statement of an
# import; an interruption loses at most this many, which the next run imports.
BATCH_SIZE = 50


@dataclass
class Report:
    customers_created: int = 0
    # Already known here (same e-mail, number…): the imported history joins their file.
    customers_matched: int = 0
    conversations_created: int = 0
    conversations_updated: int = 0
    messages_created: int = 0
    already_imported: int = 0
    skipped: list[Skip] = field(default_factory=list)
    # Agents of the source not found here by e-mail: their messages have no author.
    unknown_agents: set[str] = field(default_factory=set)


def import_export(
    brand: Brand,
    source: str,
    export: Export,
    *,
    advance: Callable[[], None] | None = None,
) -> Report:
    """Import the threads of ``export`` (and the customers they need) into ``brand``."""
    report = Report(skipped=list(export.skipped))
    importer = _Importer(brand, source, export, report)
    threads = export.threads
    for start in range(0, len(threads), BATCH_SIZE):
        # One commit per batch: each customer and conversation in its own savepoint.
        with transaction.atomic():
            for thread in threads[start : start + BATCH_SIZE]:
                try:
                    importer.thread(thread)
                except (InvalidIdentity, IntegrityError, ValueError, TypeError) as error:
                    # Its savepoint is rolled back: tags it may have created are gone too.
                    importer.tags.clear()
                    report.skipped.append(Skip(f"conversation {thread.external_id}", str(error)))
                if advance is not None:
                    advance()
    return report


class _Importer:
    def __init__(self, brand: Brand, source: str, export: Export, report: Report) -> None:
        self.brand, self.source, self.export, self.report = brand, source, export, report
        self.customers: dict[str, Customer | None] = {}
        self.tags: dict[str, Tag] = {}  # the brand's tags met so far, by key
        self.agents = {
            m.user.email.lower(): m
            for m in Membership.objects.filter(brand=brand, is_active=True).select_related("user")
            if m.user.email
        }

        # What earlier runs stored, read once: (kind, id in the source) → object id.
        self.records: dict[tuple[str, str], int] = {
            (kind, external_id): object_id
            for kind, external_id, object_id in ImportedRecord.objects.filter(
                brand=brand, source=source
            )
            .values_list("kind", "external_id", "object_id")
            .iterator(chunk_size=10_000)
        }

    def _record(self, kind: str, external_id: str) -> int | None:
        return self.records.get((kind, external_id))

    def _remember(self, kind: str, external_id: str, object_id: int) -> None:
        """Record what was stored (in the caller's transaction, with the object)."""
        if (kind, external_id) in self.records:
            ImportedRecord.objects.filter(
                brand=self.brand, source=self.source, kind=kind, external_id=external_id
            ).update(object_id=object_id)
        else:
            ImportedRecord.objects.create(
                brand=self.brand,
                source=self.source,
                kind=kind,
                external_id=external_id,
                object_id=object_id,
            )

    def customer(self, external_id: str) -> Customer | None:
        if external_id not in self.customers:
            self.customers[external_id] = self._customer(external_id)
        return self.customers[external_id]

    def _customer(self, external_id: str) -> Customer | None:
        record = self._record("person", external_id)
        if record is not None:
            customer = Customer.objects.filter(pk=record).first()
            while customer is not None and customer.merged_into_id is not None:
                customer = Customer.objects.filter(pk=customer.merged_into_id).first()
            if customer is not None:
                return customer
        person = self.export.people.get(external_id)
        if person is None:
            self.report.skipped.append(Skip(f"person {external_id}", "not in the export"))
            return None
        if person.is_agent:
            self.report.skipped.append(Skip(f"person {external_id}", "an agent, not a customer"))
            return None
        normalised = normalise_claims(person.claims, self.brand)
        if not normalised:
            self.report.skipped.append(
                Skip(f"person {external_id}", "no usable e-mail, phone or customer number")
            )
            return None
        try:
            return self._resolve(person, normalised)
        except IntegrityError:
            return self._resolve(person, normalised)  # a concurrent writer: once more

    def _resolve(self, person: Person, normalised: list) -> Customer:
        found: list[bool] = []

        def lookup(keys: list) -> list:
            matches = find_identities(self.brand.pk, keys)
            found.append(bool(matches))
            return matches

        with transaction.atomic():
            customer = resolve_claims(
                self.brand, person.claims, display_name=person.name, lookup=lookup
            ).customer
            self._remember("person", person.external_id, customer.pk)
        self.records[("person", person.external_id)] = customer.pk
        if found[0]:
            self.report.customers_matched += 1
        else:
            self.report.customers_created += 1
        return customer

    def agent(self, external_id: str) -> Membership | None:
        person = self.export.people.get(external_id)
        if person is None or not person.email:
            return None
        membership = self.agents.get(person.email.lower())
        if membership is None:
            self.report.unknown_agents.add(person.email)
        return membership

    def attachments(
        self, thread: Thread, attachments: list[ThreadAttachment]
    ) -> Iterator[PastAttachment]:
        """The files a message may keep, by the policy of every channel; the others reported.

        A type or name the policy refuses (a program, a web page) is left out; a
        file the export holds is kept when its size and first bytes pass too,
        else only its name, type and size are.
        """
        for attachment in attachments:
            what = f"conversation {thread.external_id}"
            name = mask_card_numbers(attachment.file_name)
            if not declared_type_allowed(attachment.content_type) or not name_allowed(name):
                self.report.skipped.append(Skip(what, f"attachment {name!r} refused by the policy"))
                continue
            content = None
            if attachment.path is not None:
                content = _read_file(attachment.path)
                if content is None or not attachment_allowed(
                    name, attachment.content_type, content
                ):
                    self.report.skipped.append(
                        Skip(what, f"attachment {name!r}: file refused, its name kept")
                    )
                    content = None
            yield PastAttachment(name, attachment.content_type, attachment.size, content)

    def thread(self, thread: Thread) -> None:
        record = self._record("conversation", thread.external_id)
        existing = None
        if record is not None:
            existing = Conversation.objects.filter(pk=record).select_related("customer").first()
        if existing is not None:
            customer = existing.customer
        else:
            customer = self.customer(thread.requester_external_id)
        if customer is None:
            self.report.skipped.append(
                Skip(f"conversation {thread.external_id}", "its customer could not be imported")
            )
            return
        messages = []
        for message in thread.messages:
            author_kind, author = message.author_kind, None
            person = self.export.people.get(message.author_external_id)
            if person is not None and message.author_kind != AuthorKind.BOT:
                author_kind = AuthorKind.AGENT if person.is_agent else AuthorKind.CUSTOMER
            if author_kind == AuthorKind.AGENT:
                author = self.agent(message.author_external_id)
            attachments = tuple(self.attachments(thread, message.attachments))
            if not message.text.strip() and not attachments:
                continue
            messages.append(
                PastMessage(
                    external_id=message.external_id,
                    text=message.text,
                    author_kind=author_kind,
                    created_at=message.created_at,
                    channel=message.channel,
                    is_internal_note=message.is_note,
                    author=author,
                    attachments=attachments,
                )
            )
        past = PastConversation(
            source=self.source,
            external_id=thread.external_id,
            subject=thread.subject,
            status=thread.status,
            channel=thread.channel,
            created_at=thread.created_at,
            messages=sorted(messages, key=lambda m: m.created_at),
            assignee=self.agent(thread.assignee_external_id)
            if thread.assignee_external_id
            else None,
            resolved_at=thread.updated_at,
            tags=tuple(thread.tags),
        )
        with transaction.atomic():
            conversation, added = store_past_conversation(
                customer, past, existing, known_tags=self.tags
            )
            if existing is None:
                self._remember("conversation", thread.external_id, conversation.pk)
        self.records[("conversation", thread.external_id)] = conversation.pk
        self.report.messages_created += added
        if existing is None:
            self.report.conversations_created += 1
        elif added:
            self.report.conversations_updated += 1
        else:
            self.report.already_imported += 1

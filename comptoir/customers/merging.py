"""Merge two customers into one, and undo it: the only way two profiles become one.

``merge_customers`` moves everything that points at the absorbed customer
(conversations, identities, consents, events, callback requests and whatever
other app links to ``Customer``) to the survivor, fills the survivor's blank
fields, marks the absorbed customer ``merged_into`` (it is kept, empty, so the
merge can be undone) and records exactly what moved in a ``MergeRecord``.
``unmerge`` moves exactly those rows back, or refuses with a reason when that
is no longer safe. Both run in one transaction holding row locks on both
customers, so a concurrent merge, unmerge or ingest waits rather than
interleaves. Only supervisors and administrators merge: a wrong merge shows
one person's history to another.
"""

import logging
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.customers.models import (
    Customer,
    DuplicateProposal,
    MergeRecord,
    ProposalStatus,
)
from comptoir.events import kinds
from comptoir.events.actors import Actor
from comptoir.events.kinds import EventKind
from comptoir.events.log import append_event
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)

# Fields of the survivor a merge fills when they are blank (VIP: if either was).
FILLED_FIELDS = ("display_name", "language", "is_vip")
# Links to a customer that are not "what the customer has": left where they are.
NOT_CARRIED = {
    (Customer, "merged_into"),
    (DuplicateProposal, "customer_a"),
    (DuplicateProposal, "customer_b"),
    (MergeRecord, "survivor"),
    (MergeRecord, "absorbed"),
}
# Friendly keys of ``MergeRecord.moved`` for the links everyone knows.
KNOWN_LINKS = {
    "customers.identity.customer": "identities",
    "customers.consent.customer": "consents",
    "conversations.conversation.customer": "conversations",
    "events.event.customer": "events",
}
# Rows that must all come back for an unmerge to be safe (events may be purged).
REQUIRED_BACK = ("identities", "conversations", "consents")
CHUNK = 500


class MergeRefused(ValueError):
    """The merge or unmerge cannot be done; ``reason`` is shown to the agent as is."""

    def __init__(self, reason: str, *, forbidden: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden


def _carried_links() -> list[tuple[str, type[models.Model], str]]:
    """(key, model, field name) of every foreign key to Customer a merge carries along.

    Found from the model registry, so a model another app adds later (callback
    requests, …) moves with the customer without this module knowing it.
    """
    links = []
    for relation in Customer._meta.related_objects:
        if not relation.one_to_many or (relation.related_model, relation.field.name) in NOT_CARRIED:
            continue
        model = relation.related_model
        if relation.field.unique:
            logger.warning("not carrying %s.%s on merge: unique", model._meta.label, relation.name)
            continue
        label = f"{model._meta.label_lower}.{relation.field.name}"
        links.append((KNOWN_LINKS.get(label, label), model, relation.field.name))
    return links


def _check_actor(actor: Membership, *customers: Customer) -> None:
    if not actor.is_supervisor:
        raise MergeRefused(
            _("Only supervisors and administrators can merge customers."), forbidden=True
        )
    if any(c.brand_id != actor.brand_id for c in customers):
        raise MergeRefused(_("These customers are not of your brand."), forbidden=True)


def _lock(*customers: Customer) -> dict[int, Customer]:
    """Both customers locked, in id order (two merges of one pair cannot deadlock)."""
    ids = sorted(c.pk for c in customers)
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if len(locked) != len(ids):
        raise MergeRefused(_("One of these customers no longer exists."))
    return locked


def merge_customers(
    actor: Membership,
    survivor: Customer,
    absorbed: Customer,
    proposal: DuplicateProposal | None = None,
) -> MergeRecord:
    """Make ``absorbed`` part of ``survivor``; returns the record that can undo it."""
    _check_actor(actor, survivor, absorbed)
    if survivor.pk == absorbed.pk:
        raise MergeRefused(_("A customer cannot be merged with themselves."))
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(survivor, absorbed)
        survivor, absorbed = locked[survivor.pk], locked[absorbed.pk]
        if survivor.merged_into_id or absorbed.merged_into_id:
            raise MergeRefused(_("One of these customers was already merged into another."))
        pair = sorted((survivor.pk, absorbed.pk))
        pair_proposal = (
            DuplicateProposal.objects.select_for_update()
            .filter(customer_a_id=pair[0], customer_b_id=pair[1])
            .first()
        )
        if proposal is not None and (pair_proposal is None or pair_proposal.pk != proposal.pk):
            raise MergeRefused(_("This proposal is not about these two customers."))
        moved: dict[str, list[int]] = {}
        for key, model, field_name in _carried_links():
            rows = model._default_manager.filter(**{field_name: absorbed})
            ids = list(rows.select_for_update().values_list("pk", flat=True))
            if ids:
                rows.update(**{field_name: survivor})
                moved[key] = ids
        previous = {name: getattr(survivor, name) for name in FILLED_FIELDS}
        filled = _fill_blanks(survivor, absorbed)
        absorbed.merged_into = survivor
        absorbed.save(update_fields=["merged_into", "updated_at"])
        if pair_proposal is not None:
            pair_proposal.status = ProposalStatus.MERGED
            pair_proposal.decided_by = actor
            pair_proposal.decided_at = now
            pair_proposal.save(update_fields=["status", "decided_by", "decided_at"])
        record = MergeRecord.objects.create(
            brand_id=survivor.brand_id,
            survivor=survivor,
            absorbed=absorbed,
            proposal=pair_proposal,
            actor=actor,
            merged_at=now,
            moved=moved,
            previous={"fields": previous, "filled": filled},
        )
        # Also makes customers.listeners look for duplicates of the survivor.
        _announce(kinds.CUSTOMER_MERGED, record, actor)
        audit.record(
            AuditAction.CUSTOMER_MERGED,
            user=actor.user,
            target=survivor,
            absorbed_customer_id=absorbed.pk,
            merge_id=record.pk,
        )
    logger.info(
        "customer %s merged into %s by membership %s (record %s)",
        absorbed.pk,
        survivor.pk,
        actor.pk,
        record.pk,
    )
    return record


def _fill_blanks(survivor: Customer, absorbed: Customer) -> dict[str, Any]:
    """Give the survivor what only the absorbed customer knew; returns what was set."""
    filled: dict[str, Any] = {}
    for name in ("display_name", "language"):
        if not getattr(survivor, name) and getattr(absorbed, name):
            filled[name] = getattr(absorbed, name)
    if absorbed.is_vip and not survivor.is_vip:
        filled["is_vip"] = True
    if filled:
        for name, value in filled.items():
            setattr(survivor, name, value)
        survivor.save(update_fields=[*filled, "updated_at"])
    return filled


def _announce(kind: EventKind, record: MergeRecord, actor: Membership) -> None:
    """Tell open consoles (both customers' panels refresh) and the customers' widgets.

    The widget event carries nothing: it only makes an open chat socket look up
    its customer again (its visitor identity has just changed hands).
    """
    payload = {
        "merge_id": record.pk,
        "survivor_id": record.survivor_id,
        "absorbed_id": record.absorbed_id,
        "actor_id": actor.pk,
    }
    for customer in (record.survivor, record.absorbed):
        append_event(
            record.brand_id,
            kind,
            {**payload, "customer_id": customer.pk},
            actor=Actor.agent(actor),
            customer=customer,
            customer_payload={},
        )


def unmerge(actor: Membership, record: MergeRecord) -> MergeRecord:
    """Give the absorbed customer back exactly what the merge moved, or refuse and say why.

    Conversations started after the merge stay with the survivor. The pair's
    proposal becomes "not a duplicate", so it is not proposed again.
    """
    _check_actor(actor, record.survivor, record.absorbed)
    now = timezone.now()
    with transaction.atomic():
        record = MergeRecord.objects.select_for_update().get(pk=record.pk)
        if record.unmerged_at is not None:
            raise MergeRefused(_("This merge was already undone."))
        locked = _lock(record.survivor, record.absorbed)
        survivor, absorbed = locked[record.survivor_id], locked[record.absorbed_id]
        if absorbed.merged_into_id != survivor.pk:
            raise MergeRefused(_("The absorbed customer is no longer merged into this one."))
        if survivor.merged_into_id:
            raise MergeRefused(
                _("This customer was merged into another one since: undo that merge first.")
            )
        links = {key: (model, field_name) for key, model, field_name in _carried_links()}
        for key, ids in record.moved.items():
            if key not in links:
                raise MergeRefused(_("Data moved by this merge can no longer be found."))
            model, field_name = links[key]
            if key in REQUIRED_BACK and _count_held(model, ids, field_name, survivor) != len(ids):
                raise MergeRefused(_refusal(key))
        for key, ids in record.moved.items():
            model, field_name = links[key]
            for start in range(0, len(ids), CHUNK):
                model._default_manager.filter(
                    pk__in=ids[start : start + CHUNK], **{field_name: survivor}
                ).update(**{field_name: absorbed})
        _restore_fields(survivor, record)
        absorbed.merged_into = None
        absorbed.save(update_fields=["merged_into", "updated_at"])
        if record.proposal_id is not None:
            DuplicateProposal.objects.filter(pk=record.proposal_id).update(
                status=ProposalStatus.DISMISSED, decided_by=actor, decided_at=now
            )
        else:
            pair = sorted((survivor.pk, absorbed.pk))
            DuplicateProposal.objects.get_or_create(
                customer_a_id=pair[0],
                customer_b_id=pair[1],
                defaults={
                    "brand_id": record.brand_id,
                    "score": 0,
                    "reasons": [],
                    "status": ProposalStatus.DISMISSED,
                    "decided_by": actor,
                    "decided_at": now,
                },
            )
        record.unmerged_by = actor
        record.unmerged_at = now
        record.save(update_fields=["unmerged_by", "unmerged_at"])
        record.survivor, record.absorbed = survivor, absorbed
        _announce(kinds.CUSTOMER_UNMERGED, record, actor)
        audit.record(
            AuditAction.CUSTOMER_UNMERGED,
            user=actor.user,
            target=survivor,
            absorbed_customer_id=absorbed.pk,
            merge_id=record.pk,
        )
    logger.info("merge %s undone by membership %s", record.pk, actor.pk)
    return record


def _count_held(model: type[models.Model], ids: list[int], field_name: str, owner: Customer) -> int:
    """How many of the rows ``ids`` ``owner`` still holds (locked, in chunks of bounded size)."""
    held = 0
    for start in range(0, len(ids), CHUNK):
        rows = model._default_manager.select_for_update().filter(
            pk__in=ids[start : start + CHUNK], **{field_name: owner}
        )
        held += len(rows.values_list("pk", flat=True))
    return held


def _refusal(key: str) -> str:
    return {
        "identities": _(
            "An identity moved by this merge was removed or moved since: it cannot be undone."
        ),
        "conversations": _(
            "A conversation moved by this merge was deleted or moved since: it cannot be undone."
        ),
        "consents": _("A consent moved by this merge was deleted since: it cannot be undone."),
    }[key]


def _restore_fields(survivor: Customer, record: MergeRecord) -> None:
    """Put back the survivor's fields the merge filled, unless an agent changed them since."""
    previous = record.previous.get("fields", {})
    restored = []
    for name, value in record.previous.get("filled", {}).items():
        if getattr(survivor, name) == value and name in previous:
            setattr(survivor, name, previous[name])
            restored.append(name)
    if restored:
        survivor.save(update_fields=[*restored, "updated_at"])


def follow_merges(customer: Customer) -> Customer:
    """The customer that now holds ``customer``'s file (itself when it was never merged)."""
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer

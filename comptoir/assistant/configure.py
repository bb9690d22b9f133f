"""Changes administrators make to their brand's assistant (console, API, Django admin).

One function saves a validated form (settings, intent or article), one
deletes an object; both in a transaction, logging who did it. Changing an
intent asks for retraining (``request_training``: an event the worker's
``listeners.retrain`` answers); changing the settings refreshes this process's
cache of enabled brands. Articles need no training: passages are ranked from
the published articles at each question (``retrieval.top_passages``).
"""

import logging

from django.db import transaction
from django.db.models import Model
from django.forms import ModelForm
from django.utils import timezone

from comptoir.assistant.enabled_brands import forget_enabled_brands
from comptoir.assistant.models import AssistantSettings, Intent, TrainedModel
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.kinds import ASSISTANT_INTENTS_CHANGED
from comptoir.events.log import append_event
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)


def save_brand_form(admin: Membership, form: ModelForm) -> Model:
    """Save the form's object as belonging to the administrator's brand."""
    with transaction.atomic():
        saved = form.save(commit=False)
        saved.brand = admin.brand
        saved.save()
        object_changed(saved, Actor.agent(admin))
    logger.info(
        "%s %s of brand %s saved by %s",
        saved._meta.model_name,
        saved.pk,
        admin.brand_id,
        admin.user_id,
    )
    return saved


def delete_brand_object(admin: Membership, obj: Model) -> None:
    """Delete one of the brand's objects (the caller fetched it within the brand)."""
    kind, pk = obj._meta.model_name, obj.pk
    with transaction.atomic():
        obj.delete()
        object_changed(obj, Actor.agent(admin))
    logger.info("%s %s of brand %s deleted by %s", kind, pk, admin.brand_id, admin.user_id)


def object_changed(obj: Model, actor: Actor = SYSTEM) -> None:
    """What follows a saved or deleted intent or settings (also after the Django admin's saves)."""
    if isinstance(obj, Intent):
        request_training(obj.brand_id, actor)
    elif isinstance(obj, AssistantSettings):
        transaction.on_commit(forget_enabled_brands)


def request_training(brand_id: int, actor: Actor = SYSTEM) -> None:
    """Mark the brand's classifier out of date; a worker retrains it (``listeners.retrain``).

    ``TrainedModel.requested_at`` is what the console shows as "retraining
    pending"; training clears it.
    """
    now = timezone.now()
    if not TrainedModel.objects.filter(brand_id=brand_id).update(requested_at=now):
        TrainedModel.objects.get_or_create(brand_id=brand_id, defaults={"requested_at": now})
    append_event(brand_id, ASSISTANT_INTENTS_CHANGED, {"brand_id": brand_id}, actor=actor)

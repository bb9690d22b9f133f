"""Changes brand administrators make to their assistant from the console.

One function saves a validated form (settings, intent or article), one
deletes an object; both in a transaction, logging who did it. Retraining is
not requested here: saving or deleting an ``Intent`` fires the same signal as
in the Django admin (``signals.request_training``), so every path marks the
brand alike.
Articles need no training: passages are ranked from the published articles
at each question (``retrieval.top_passages``).
"""

import logging

from django.db import transaction
from django.db.models import Model
from django.forms import ModelForm

from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)


def save_brand_form(admin: Membership, form: ModelForm) -> Model:
    """Save the form's object as belonging to the administrator's brand."""
    with transaction.atomic():
        saved = form.save(commit=False)
        saved.brand = admin.brand
        saved.save()
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
    logger.info("%s %s of brand %s deleted by %s", kind, pk, admin.brand_id, admin.user_id)

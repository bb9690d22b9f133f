"""Intents changing → the brand's classifier is due for retraining; settings → cache refresh."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from comptoir.assistant.hooks import forget_enabled_brands
from comptoir.assistant.models import AssistantSettings, Intent, TrainedModel


def request_training(brand_id: int) -> None:
    """Mark the brand's model as out of date; the worker retrains it (``jobs.run_due``)."""
    now = timezone.now()
    if not TrainedModel.objects.filter(brand_id=brand_id).update(requested_at=now):
        TrainedModel.objects.get_or_create(brand_id=brand_id, defaults={"requested_at": now})


@receiver(post_save, sender=Intent)
@receiver(post_delete, sender=Intent)
def _intent_changed(sender, instance: Intent, **kwargs) -> None:
    request_training(instance.brand_id)


@receiver(post_save, sender=AssistantSettings)
@receiver(post_delete, sender=AssistantSettings)
def _settings_changed(sender, instance: AssistantSettings, **kwargs) -> None:
    forget_enabled_brands()

"""The router's timed work: the sweep that re-decides waiting conversations, automatic away."""

from django.conf import settings

from comptoir.routing.models import QueueEntry
from comptoir.routing.presence import set_inactive_agents_away
from comptoir.routing.router import assign_next
from comptoir.tasks import periodic


@periodic(cron=settings.ROUTING_SWEEP_CRON)
def sweep() -> None:
    """Decide again for every brand with waiting conversations.

    What no event announces happens here: an advisor's extra wait running out, a
    widening threshold passed, an agent's console opening. Every 10 s by default
    (``ROUTING_SWEEP_CRON``): the thresholds are honoured within that delay.
    """
    brand_ids = QueueEntry.objects.values_list("brand_id", flat=True).distinct().order_by()
    for brand_id in sorted(set(brand_ids)):
        assign_next(brand_id)


@periodic(cron="* * * * *")
def set_inactive_away() -> None:
    """Every minute: available agents without activity for their brand's delay are set away."""
    set_inactive_agents_away()

"""Retention per brand: customers idle for longer than the brand's period are erased.

``Brand.retention_months`` (0: kept) counts from the customer's last activity:
their latest message in any conversation, or their creation if they never
wrote. They are erased through ``gdpr.erasure`` (anonymous figures stay, so
reports stay true); a customer with an open data request is left for that
request to be answered first. Run nightly by ``gdpr.tasks.apply_retention``.
"""

import logging
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from comptoir.customers.models import Customer
from comptoir.gdpr.erasure import erase_customer
from comptoir.gdpr.models import DataRequest, RequestStatus
from comptoir.tenancy.models import Brand

logger = logging.getLogger(__name__)

# At most this many customers per brand and night: a first run on a large history
# spreads over several nights instead of one long transaction-heavy job.
BATCH = 500


def retention_cutoff(brand: Brand, now: datetime | None = None) -> datetime | None:
    """Activity before this instant is past the brand's retention period (None: kept)."""
    if not brand.retention_months:
        return None
    return (now or timezone.now()) - relativedelta(months=brand.retention_months)


def customers_past_retention(brand: Brand, now: datetime | None = None) -> list[int]:
    """Ids of the brand's customers idle since before the cutoff, not yet erased."""
    cutoff = retention_cutoff(brand, now)
    if cutoff is None:
        return []
    pending = DataRequest.objects.filter(brand=brand, status=RequestStatus.OPEN).values(
        "customer_id"
    )
    return list(
        Customer.objects.filter(
            brand=brand, erased_at__isnull=True, merged_into__isnull=True, created_at__lt=cutoff
        )
        .exclude(pk__in=pending)
        .annotate(
            last_activity=Greatest(
                "created_at", Coalesce(Max("conversations__last_message_at"), "created_at")
            )
        )
        .filter(Q(last_activity__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Erase every brand's customers past its retention period; erased count per brand slug."""
    erased: dict[str, int] = {}
    for brand in Brand.objects.filter(retention_months__gt=0).order_by("pk"):
        ids = customers_past_retention(brand, now)
        for customer in Customer.objects.filter(pk__in=ids).order_by("pk"):
            erase_customer(None, customer, reason="retention")
        if ids:
            logger.info("retention: %s customers of brand %s erased", len(ids), brand.slug)
            erased[brand.slug] = len(ids)
    return erased

"""Console view for agent assist, and the demo "brand system" the demo's actions call."""

import hashlib
import logging
import re
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from comptoir.assistant.assist import suggestions_for
from comptoir.conversations.access import access_conversation
from comptoir.tenancy.access import request_membership

logger = logging.getLogger(__name__)


@require_safe
@login_required
def assist(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Suggested replies and passages for the conversation (the agent's brand only, else 404)."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    response = JsonResponse(suggestions_for(conversation))
    response["Cache-Control"] = "no-store"
    return response


_DEMO_ORDER = re.compile(r"^MD-?\d{4,8}$", re.IGNORECASE)
_DEMO_STATUSES = [
    ("preparing", "en préparation", "being prepared"),
    ("shipped", "expédiée", "shipped"),
    ("out_for_delivery", "en cours de livraison", "out for delivery"),
    ("delivered", "livrée", "delivered"),
]


@require_safe
def demo_order(request: HttpRequest, number: str) -> JsonResponse:
    """A pretend order system for the demo brand: /demo/api/orders/MD-10482.

    Public on purpose (made-up data derived from the number); the demo brand's
    assistant calls it through its action endpoint, with private addresses
    allowed because it runs on 127.0.0.1 (see README).
    """
    if not _DEMO_ORDER.match(number):
        return JsonResponse({"error": "unknown order number"}, status=404)
    seed = int(hashlib.sha256(number.upper().encode()).hexdigest(), 16)
    status, status_fr, status_en = _DEMO_STATUSES[seed % len(_DEMO_STATUSES)]
    expected = date.today() + timedelta(days=(seed // 7) % 4)
    return JsonResponse(
        {
            "order_number": number.upper(),
            "status": status_en,
            "status_fr": status_fr,
            "status_en": status_en,
            "status_code": status,
            "carrier": "Colissimo",
            "expected_delivery": expected.isoformat(),
            "tracking_url": f"https://suivi.exemple.fr/{number.upper()}",
        }
    )

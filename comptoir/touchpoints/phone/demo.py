"""The demo brand's phone line and one call, so that the console shows the phone channel.

The secrets are documented demo values (README, phone section) so that call
events can be posted with ``curl`` against ``make demo``.
"""

from datetime import timedelta

from django.utils import timezone

from comptoir.conversations.models import Direction
from comptoir.tenancy.models import Brand, Membership
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.models import PhoneLine, Provider

DEMO_LINE_NUMBER = "+33180000000"
DEMO_WEBHOOK_SECRET = "demo-phone-webhook-secret"  # noqa: S105 (documented demo value)
DEMO_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000demo"
DEMO_TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"  # noqa: S105 (documented demo value)
# Hugo Laurent, a demo customer who already called once (see load_demo).
DEMO_CALLER = "+33781224590"


def ensure_demo_phone(brand: Brand, agents: dict[str, Membership]) -> PhoneLine:
    """The demo line (click-to-call logs only) and one answered call from Hugo; idempotent."""
    line, _ = PhoneLine.objects.get_or_create(
        number=DEMO_LINE_NUMBER,
        defaults={
            "brand": brand,
            "label": "Service client",
            "provider": Provider.LOG,
            "webhook_secret": DEMO_WEBHOOK_SECRET,
            "twilio_account_sid": DEMO_TWILIO_ACCOUNT_SID,
            "twilio_auth_token": DEMO_TWILIO_AUTH_TOKEN,
        },
    )
    started = timezone.now() - timedelta(minutes=25)
    steps = [
        (CallEventKind.QUEUED, started, ""),
        (CallEventKind.ANSWERED, started + timedelta(seconds=42), "julien"),
        (CallEventKind.ENDED, started + timedelta(seconds=42 + 190), ""),
    ]
    for kind, at, agent in steps:
        record_call_event(
            brand,
            CallEvent(
                provider=Provider.GENERIC,
                call_id="demo-call-hugo-2",
                kind=kind,
                occurred_at=at,
                event_id=f"demo-{kind}",
                direction=Direction.INBOUND,
                from_number=DEMO_CALLER,
                to_number=DEMO_LINE_NUMBER,
                caller_name="Hugo Laurent",
            ),
            line=line,
            agent=agents.get(agent),
        )
    return line


def demo_phone_lines(base_url: str) -> list[str]:
    """What ``load_demo`` prints about the phone channel."""
    return [
        f"Phone:     line {DEMO_LINE_NUMBER}; call events: POST {base_url}/webhooks/phone/"
        f"maison-demo/events (HMAC secret {DEMO_WEBHOOK_SECRET}),",
        f"           Twilio format: POST {base_url}/webhooks/twilio/maison-demo/voice "
        f"(auth token {DEMO_TWILIO_AUTH_TOKEN})",
    ]

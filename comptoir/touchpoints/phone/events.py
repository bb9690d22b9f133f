"""``CallEvent``: the channel-neutral shape every telephony adapter produces."""

from dataclasses import dataclass
from datetime import datetime

from django.db import models


class CallEventKind(models.TextChoices):
    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"
    VOICEMAIL = "voicemail"
    RECORDING = "recording"
    TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class CallEvent:
    """One thing a provider reports about one call, before Comptoir has applied it.

    ``(provider, call_id)`` names the call; ``event_id`` names this report (a
    replay carries the same one and changes nothing). Numbers are E.164.
    ``status`` is the final status an ``ended`` event reports (completed,
    no-answer, busy, failed). ``agent`` is the e-mail or username of the agent
    who answered, as the telephony system knows them.
    """

    provider: str
    call_id: str
    kind: str
    occurred_at: datetime
    event_id: str
    direction: str
    from_number: str
    to_number: str
    status: str = ""
    agent: str = ""
    recording_url: str = ""
    transcript: str = ""
    caller_name: str = ""
    # Talk time as the provider measured it, when it says so (Twilio's CallDuration).
    talk_seconds: int | None = None

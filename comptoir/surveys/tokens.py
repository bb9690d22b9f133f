"""The signed link of a survey: who it is for, which issue of it, until when.

Signed with ``django.core.signing`` (the site's ``SECRET_KEY``): a changed character
is refused. The nonce ties a link to one issue of the survey, and the survey is
answered once: a link followed again, or after the survey was answered, is
refused. The expiry travels in the signed value, so that each brand's
``link_days`` applies to the links it sent.
"""

import time
from dataclasses import dataclass

from django.core import signing

SALT = "comptoir.surveys.link"


class SurveyLinkError(ValueError):
    """A link that cannot answer its survey; ``code`` says why (tampered, expired, used)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SurveyLink:
    survey_id: int
    nonce: str


def make_token(survey_id: int, nonce: str, valid_days: int) -> str:
    expires = int(time.time()) + valid_days * 86400
    return signing.dumps({"s": survey_id, "n": nonce, "e": expires}, salt=SALT)


def read_token(token: str) -> SurveyLink:
    """The survey a token names; SurveyLinkError("tampered" or "expired") otherwise."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise SurveyLinkError("tampered") from None
    if not isinstance(value, dict) or not {"s", "n", "e"} <= value.keys():
        raise SurveyLinkError("tampered")
    if int(value["e"]) < time.time():
        raise SurveyLinkError("expired")
    return SurveyLink(int(value["s"]), str(value["n"]))

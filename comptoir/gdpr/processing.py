"""Records of processing (Art. 30 GDPR): what Comptoir stores, why, for how long.

Built from the running settings and the brand's own choices (retention period,
surveys' link validity, audit log retention, session and widget token lifetimes),
so the page states what the software actually does, not what a document once said.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from comptoir.api.idempotency import KEY_LIFETIME
from comptoir.surveys.models import SurveySettings
from comptoir.tenancy.models import Brand


@dataclass(frozen=True)
class ProcessingRecord:
    what: str
    why: str
    basis: str
    how_long: str


def _months(months: int) -> str:
    return ngettext("%(count)s month", "%(count)s months", months) % {"count": months}


def _days(days: int) -> str:
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def _hours(hours: int) -> str:
    return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}


def records_of_processing(brand: Brand) -> list[ProcessingRecord]:
    """The brand's processing activities, each with its retention from the real settings."""
    if brand.retention_months:
        customer_life = _(
            "%(period)s after the customer's last message, then erased automatically "
            "(anonymous figures stay); earlier on the customer's request."
        ) % {"period": _months(brand.retention_months)}
    else:
        customer_life = _(
            "Until the customer asks for erasure: no retention period is set (see below)."
        )
    survey_settings = SurveySettings.objects.filter(brand=brand).first()
    if survey_settings is None:
        survey_life = _("No survey is sent: the brand has no survey settings.")
    else:
        survey_life = _(
            "Links valid %(link)s; answers kept with the customer's file (%(file)s)."
        ) % {"link": _days(survey_settings.link_days), "file": customer_life}
    return [
        ProcessingRecord(
            _(
                "Customers' identities: names, e-mail addresses, phone numbers, chat and social "
                "account ids, language"
            ),
            _("Recognise the customer on every channel and answer them."),
            _("Contract, or steps at the customer's request"),
            customer_life,
        ),
        ProcessingRecord(
            _(
                "Conversations: messages, subjects, attachments, internal notes; card numbers "
                "are masked before anything is stored"
            ),
            _("Answer the customer's questions and keep the history of their file."),
            _("Contract"),
            customer_life,
        ),
        ProcessingRecord(
            _("Phone calls and callback requests: numbers, times, transcripts"),
            _("Call the customer back and keep the history of their file."),
            _("Contract"),
            customer_life,
        ),
        ProcessingRecord(
            _("Consents per purpose (service, surveys, marketing), with source and time"),
            _("Prove what the customer agreed to and respect their withdrawal."),
            _("Legal obligation"),
            customer_life,
        ),
        ProcessingRecord(
            _("Satisfaction and effort surveys: scores and comments"),
            _("Measure and improve the service; follow up unhappy customers."),
            _("Legitimate interest (the customer can stop surveys at any time)"),
            survey_life,
        ),
        ProcessingRecord(
            _("Data requests (export, erasure): ids, kinds and dates only"),
            _("Prove that requests were answered within a month."),
            _("Legal obligation"),
            _("Kept after the erasure they asked for (they hold no personal data)."),
        ),
        ProcessingRecord(
            _(
                "Audit log: who viewed, exported, merged or erased customers' data, signed in "
                "or failed to (with the IP address), changed roles or settings"
            ),
            _("Security and accountability."),
            _("Legitimate interest, legal obligation"),
            _days(settings.AUDIT_RETENTION_DAYS),
        ),
        ProcessingRecord(
            _("Agents' accounts and sessions"),
            _("Sign agents in and protect their accounts."),
            _("Contract (employment)"),
            _(
                "Sessions end after %(idle)s without activity and at most %(life)s after "
                "signing in; accounts while the agent works for the brand."
            )
            % {
                "idle": _hours(settings.SESSION_IDLE_TIMEOUT // 3600),
                "life": _hours(settings.SESSION_ABSOLUTE_LIFETIME // 3600),
            },
        ),
        ProcessingRecord(
            _("The chat widget's visitor token, in the visitor's browser"),
            _("Let a visitor find their conversation again."),
            _("Contract, or steps at the customer's request"),
            _days(settings.WIDGET_TOKEN_MAX_AGE // 86400),
        ),
        ProcessingRecord(
            _("Idempotency keys of API writes (the answer to a repeated request)"),
            _("Never apply an integrator's request twice."),
            _("Legitimate interest"),
            _hours(int(KEY_LIFETIME.total_seconds()) // 3600),
        ),
    ]

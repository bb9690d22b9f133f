"""Django admin: mailboxes, and every quarantined mail (including those no brand could claim)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.receiving import OutcomeKind, retry_quarantined


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["address", "brand", "acknowledge", "response_time_hours", "reopen_window_days"]
    list_filter = ["brand"]
    search_fields = ["address"]


@admin.register(QuarantinedMail)
class QuarantinedMailAdmin(admin.ModelAdmin):
    list_display = ["pk", "received_at", "brand", "source", "header_from", "reason", "resolved"]
    list_filter = ["resolved", "source", "brand"]
    search_fields = ["reason", "header_from", "header_subject", "envelope_sender"]
    exclude = ["raw"]
    readonly_fields = [
        "brand",
        "received_at",
        "source",
        "size",
        "reason",
        "envelope_sender",
        "envelope_recipients",
        "header_from",
        "header_subject",
        "attempts",
        "resolved",
        "resolved_at",
        "resolution",
    ]
    actions = ["retry"]

    @admin.action(description="Retry the selected mail")
    def retry(self, request: HttpRequest, queryset: QuerySet[QuarantinedMail]) -> None:
        for mail in queryset.filter(resolved=False):
            outcome = retry_quarantined(mail)
            level = messages.ERROR if outcome.kind == OutcomeKind.QUARANTINED else messages.INFO
            self.message_user(
                request, f"#{mail.pk}: {outcome.kind.value} {outcome.describe()}", level
            )

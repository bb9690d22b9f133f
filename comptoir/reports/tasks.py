"""Keeping the reports' figures up with the event log, and the roll-ups with the FCR windows."""

from comptoir.reports.facts import catch_up
from comptoir.reports.rollups import rebuild_changed_windows
from comptoir.tasks import periodic


@periodic(cron="* * * * * */10")
def catch_up_facts() -> None:
    """Every 10 s: the conversations with new events get their figures derived again."""
    catch_up()


@periodic(cron="17 * * * *")
def recount_changed_windows() -> None:
    """Hourly: a brand that changed its first-contact-resolution window gets its days recounted."""
    rebuild_changed_windows()

"""Keeping the reports' figures up with the event log."""

from comptoir.reports.facts import catch_up
from comptoir.tasks import periodic


@periodic(cron="* * * * * */10")
def catch_up_facts() -> None:
    """Every 10 s: the conversations with new events get their figures derived again."""
    catch_up()

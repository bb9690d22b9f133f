"""Which brands check in proactively, and after how long: known without a query.

Every customer message's event asks it (``surveys.listeners``). A stale answer is
harmless: the timed job reads the brand's settings again when it runs
(``surveys.proactive``); ``actions.save_proactive_settings`` drops it at once here.
"""

from comptoir.process_cache import ProcessCache
from comptoir.surveys.models import ProactiveSettings


def _load() -> dict[int, dict[str, int]]:
    rows = ProactiveSettings.objects.values_list("brand_id", "check_in_hours", "reminder_hours")
    return {
        brand_id: {"check_in_hours": check_in or 0, "reminder_hours": reminder or 0}
        for brand_id, check_in, reminder in rows
    }


PROACTIVE_HOURS = ProcessCache(_load, "PROACTIVE_CACHE_SECONDS")

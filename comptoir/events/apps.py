from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "comptoir.events"
    verbose_name = "Event log"

    def ready(self) -> None:
        # Every app's ``listeners`` module hangs its listeners on event kinds.
        autodiscover_modules("listeners")

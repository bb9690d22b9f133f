from django.contrib import admin

from comptoir.events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The event log is append-only."""

    list_display = ("id", "brand", "kind", "actor_kind", "actor", "conversation", "created_at")
    list_filter = ("brand", "kind")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin

from comptoir.conversations.models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-only: conversations change through the console and its actions, never here."""

    list_display = (
        "__str__",
        "brand",
        "customer",
        "status",
        "assignee",
        "channel",
        "last_message_at",
    )
    list_filter = ("brand", "status", "channel")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

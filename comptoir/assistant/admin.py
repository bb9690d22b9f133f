"""Platform operators configure each brand's assistant here (intents, articles, endpoint)."""

from django.contrib import admin

from comptoir.assistant import configure
from comptoir.assistant.models import (
    AssistantJob,
    AssistantSettings,
    ConversationState,
    Intent,
    KnowledgeArticle,
    TrainedModel,
)


class ConfiguredByActions(admin.ModelAdmin):
    """Saves and deletions followed by ``configure``: retraining and caches as in the console."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        configure.object_changed(obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        configure.object_changed(obj)

    def delete_queryset(self, request, queryset):
        deleted = list(queryset)
        super().delete_queryset(request, queryset)
        for obj in deleted:
            configure.object_changed(obj)


@admin.register(AssistantSettings)
class AssistantSettingsAdmin(ConfiguredByActions):
    # The endpoint is checked by AssistantSettings.clean (http(s), public addresses only
    # unless allow_private_addresses), which the admin form runs before saving.
    list_display = ("brand", "enabled", "confidence_threshold", "action_base_url", "updated_at")
    list_filter = ("enabled",)


@admin.register(Intent)
class IntentAdmin(ConfiguredByActions):
    list_display = ("name", "label", "brand", "action", "automatable")
    list_filter = ("brand", "automatable")
    search_fields = ("name", "label")


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "brand", "language", "published", "updated_at")
    list_filter = ("brand", "language", "published")
    search_fields = ("title", "body")


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("brand", "trained_at", "requested_at", "last_error")
    exclude = ("data",)
    readonly_fields = ("brand", "trained_at", "intents_hash", "requested_at", "last_error")


@admin.register(AssistantJob)
class AssistantJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "brand",
        "status",
        "outcome",
        "reason",
        "intent",
        "confidence",
        "created_at",
    )
    list_filter = ("status", "outcome", "brand")
    raw_id_fields = ("message", "conversation")


@admin.register(ConversationState)
class ConversationStateAdmin(admin.ModelAdmin):
    list_display = ("conversation", "brand", "pending_action", "failures", "handed_off_at")
    raw_id_fields = ("conversation",)

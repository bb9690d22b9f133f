"""Django admin for platform operators (superusers); brand staff use the console."""

from functools import partial

from django.contrib import admin
from django.db import transaction

from comptoir.tenancy.actions import close_agent_sockets
from comptoir.tenancy.models import ApiToken, Brand, Membership, Team


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_language", "created_at")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "brand", "role", "is_active")
    list_filter = ("brand", "role", "is_active")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            transaction.on_commit(partial(close_agent_sockets, obj.pk))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "brand", "auto_assign")
    list_filter = ("brand", "auto_assign")
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "membership", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


def platform_operators_only(request) -> bool:
    """Django admin is for the platform's superusers; a brand's staff run it from the console.

    Django lets any ``is_staff`` user in: a brand administrator given that flag
    would see every brand. Settings (``/console/settings/``) covers what they need.
    """
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = platform_operators_only

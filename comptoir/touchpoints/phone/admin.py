"""Django admin for platform operators (superusers); a brand's administrators use Settings."""

from django.contrib import admin

from comptoir.touchpoints.phone.models import PhoneLine


@admin.register(PhoneLine)
class PhoneLineAdmin(admin.ModelAdmin):
    list_display = ("number", "label", "brand", "provider", "is_active")
    list_filter = ("brand", "provider", "is_active")

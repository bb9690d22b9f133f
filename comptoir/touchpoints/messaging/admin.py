from django.contrib import admin

from comptoir.touchpoints.messaging.models import MessagingAccount


@admin.register(MessagingAccount)
class MessagingAccountAdmin(admin.ModelAdmin):
    list_display = ("__str__", "brand", "provider", "external_id", "is_active")
    list_filter = ("provider", "brand", "is_active")

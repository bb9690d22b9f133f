from django.contrib import admin

from comptoir.outbox.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("message", "brand", "channel", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "channel", "brand")
    raw_id_fields = ("message",)

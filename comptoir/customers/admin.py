from django.contrib import admin

from comptoir.customers.models import Customer, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "brand", "is_vip", "created_at")
    list_filter = ("brand", "is_vip")
    search_fields = ("display_name", "identities__value")
    inlines = [IdentityInline]

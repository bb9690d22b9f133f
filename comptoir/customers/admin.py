from django.contrib import admin

from comptoir.customers.models import Consent, Customer, DuplicateProposal, Identity, MergeRecord


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "brand", "is_vip", "merged_into", "created_at")
    list_filter = ("brand", "is_vip")
    search_fields = ("display_name", "identities__value")
    inlines = [IdentityInline]


@admin.register(DuplicateProposal)
class DuplicateProposalAdmin(admin.ModelAdmin):
    list_display = ("__str__", "brand", "score", "status", "created_at", "decided_by")
    list_filter = ("brand", "status")


@admin.register(MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin):
    """Read-only: merges are undone from the console, where unmerge checks it is safe."""

    list_display = ("__str__", "brand", "actor", "merged_at", "unmerged_at")
    list_filter = ("brand",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("customer", "purpose", "granted", "source", "recorded_at")
    list_filter = ("brand", "purpose", "granted")

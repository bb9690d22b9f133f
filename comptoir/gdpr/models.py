"""Data subjects' requests (Art. 15, 17, 20), tracked until fulfilled within their due date."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.customers.models import Customer
from comptoir.tenancy.models import Brand, Membership


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Access and portability (export)")
    ERASURE = "erasure", _("Erasure")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")


class DataRequest(models.Model):
    """A person's request about their data: who asked, when, by when it is due, when done.

    Holds no personal data itself (ids, kinds and times), so it outlives the
    customer's erasure as the proof that the request was honoured.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="data_requests")
    kind = models.CharField(max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    # None: the customer asked themselves (widget, portal); else the agent who took it.
    requested_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Where it was asked: console, widget, portal, api.
    source = models.CharField(max_length=20)
    requested_at = models.DateTimeField()
    # One month after ``requested_at`` (Art. 12(3)).
    due_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["brand", "status", "due_at"], name="datarequest_open")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

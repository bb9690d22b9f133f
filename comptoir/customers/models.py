"""Customers and the identities by which every channel recognises them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import Brand, Membership


class Customer(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="customers")
    display_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    is_vip = models.BooleanField(default=False)
    # The customer's own advisor: the assistant's handoffs go to them first.
    advisor = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_customers",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when an agent merged this customer into another one. The record is
    # kept (so the merge can be undone) but holds nothing any more: its pages
    # and the API point to ``merged_into``.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="absorbed"
    )
    # Set by ``gdpr.erasure``: the row stays, anonymous, so reports stay true; the
    # retention task (``gdpr.retention``) skips it.
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"

    @property
    def label(self) -> str:
        """What agents see when the customer has not told us a name."""
        return self.display_name or _("Visitor #%(id)s") % {"id": self.pk}


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT_VISITOR = "chat_visitor", _("Chat visitor")
    CUSTOMER_NUMBER = "customer_number", _("Customer number")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")


class Identity(models.Model):
    """One normalised claim (kind + value) that points at one customer of a brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="identities")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    verified = models.BooleanField(default=False)
    # Set when the channel reports the address unreachable (a mail bounce, …).
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "value"], name="identity_brand_kind_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class ConsentPurpose(models.TextChoices):
    """Why a customer's data is used; ``customers.consents`` says what an answer allows.

    ``service``: answering the customer (the contract; allowed unless withdrawn);
    ``surveys``: satisfaction surveys and proactive check-ins (legitimate interest:
    allowed unless withdrawn); ``marketing``: offers (only if given). The two
    channel purposes refine ``marketing`` (an answer about either counts for its
    channel). ``data_processing`` rows of before were migrated to ``service``.
    """

    SERVICE = "service", _("Customer service")
    SURVEYS = "surveys", _("Surveys and check-ins")
    MARKETING = "marketing", _("Marketing")
    MARKETING_EMAIL = "marketing_email", _("Marketing e-mails")
    MARKETING_SMS = "marketing_sms", _("Marketing text messages")


class Consent(models.Model):
    """One recorded answer of the customer about one purpose (the latest one counts).

    Kept as a log, never updated in place, so that a merge can carry consents
    to the surviving customer and an unmerge can bring back exactly those.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="consents")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=30, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    # Where the answer was given: "widget", "survey", "console", "portal", an import…
    source = models.CharField(max_length=80, blank=True)
    # The agent who recorded it (the customer's word on the phone, a letter); None:
    # the customer gave it themselves (widget, survey page, portal) or Comptoir did.
    recorded_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["customer", "purpose", "recorded_at"], name="consent_latest")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}={'yes' if self.granted else 'no'}"


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class DuplicateProposal(models.Model):
    """Two customers the detector believes are one person, waiting for an agent's decision.

    The pair is stored ordered (``customer_a_id < customer_b_id``) so that it is
    proposed once; a dismissed pair is never proposed again.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="duplicate_proposals")
    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # [{"code": "same_phone", "detail": "+33612345678"}, …] (see duplicates.REASON_LABELS)
    reasons = models.JSONField(default=list)
    score = models.FloatField()
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_a", "customer_b"], name="duplicate_proposal_pair_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")),
                name="duplicate_proposal_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["brand", "status", "score"], name="proposal_brand_status")]

    def __str__(self) -> str:
        return f"#{self.customer_a_id} ~ #{self.customer_b_id} ({self.status})"

    def other(self, customer_id: int) -> int:
        """The id of the pair's other customer."""
        return self.customer_b_id if customer_id == self.customer_a_id else self.customer_a_id


class MergeRecord(models.Model):
    """What one merge moved, so that it can be audited and undone exactly.

    ``moved`` holds the ids that changed hands
    (``{"conversations": [...], "identities": [...], "consents": [...],
    "events": [...], "callback_requests": [...], "proposals": [...]}``) and
    ``previous`` the survivor's fields before blanks were filled.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="merge_records")
    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    absorbed = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    proposal = models.ForeignKey(
        DuplicateProposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField()
    moved = models.JSONField(default=dict)
    previous = models.JSONField(default=dict)
    unmerged_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unmerged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "merged_at"], name="merge_brand_at")]

    def __str__(self) -> str:
        return f"#{self.absorbed_id} → #{self.survivor_id}"

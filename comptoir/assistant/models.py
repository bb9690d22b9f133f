"""What the assistant knows (intents, articles, a trained model) and what it did (jobs, state)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Conversation, Message
from comptoir.tenancy.models import Brand, Team


def default_answer_channels() -> list[str]:
    return ["webchat", "email", "whatsapp", "messenger"]


class AssistantSettings(models.Model):
    """A brand's assistant switch and the endpoint of the brand's own systems (actions)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="assistant_settings")
    enabled = models.BooleanField(_("enabled"), default=False)
    confidence_threshold = models.FloatField(_("confidence threshold"), default=0.7)
    action_base_url = models.URLField(
        _("action endpoint base URL"),
        blank=True,
        help_text=_("The brand's own API, e.g. https://shop.example.com/api (http or https)."),
    )
    timeout_seconds = models.FloatField(_("timeout (seconds)"), default=5)
    allow_private_addresses = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_("Only for a brand system on a private network (or the demo)."),
    )
    # Where it answers (webchat, email, whatsapp, messenger); elsewhere it only classifies.
    answer_channels = models.JSONField(
        _("channels answered"), default=default_answer_channels, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assistant settings")
        verbose_name_plural = _("assistant settings")

    def __str__(self) -> str:
        return f"assistant of {self.brand}"

    def clean(self) -> None:
        from comptoir.assistant.endpoints import validate_settings

        validate_settings(self)


class Intent(models.Model):
    """Something customers ask for, how to recognise it and how to answer it."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="assistant_intents")
    name = models.SlugField(_("name"), max_length=60)
    label = models.CharField(_("label"), max_length=120)
    training_phrases_fr = models.JSONField(_("training phrases (French)"), default=list, blank=True)
    training_phrases_en = models.JSONField(
        _("training phrases (English)"), default=list, blank=True
    )
    answer_fr = models.TextField(_("answer (French)"), blank=True)
    answer_en = models.TextField(_("answer (English)"), blank=True)
    action = models.CharField(
        _("action"),
        max_length=40,
        blank=True,
        help_text=_('"order_status" calls the brand endpoint; "handoff" asks for a person.'),
    )
    automatable = models.BooleanField(_("may be handled automatically"), default=False)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
        help_text=_("Where a handoff on this intent waits, when the customer has no advisor."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="intent_brand_name_unique")
        ]

    def __str__(self) -> str:
        return self.label or self.name

    def answer(self, language: str) -> str:
        return (self.answer_en if language == "en" else self.answer_fr) or self.answer_fr


class KnowledgeArticle(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="knowledge_articles")
    language = models.CharField(_("language"), max_length=8, default="fr")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class TrainedModel(models.Model):
    """The brand's trained intent classifier, retrained by the worker when intents change."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="assistant_model")
    data = models.BinaryField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    intents_hash = models.CharField(max_length=64, blank=True)
    # Set when intents change (``configure.request_training``), cleared by training:
    # the console shows "retraining pending" meanwhile.
    requested_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"model of {self.brand}"


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered by the assistant")
    HANDOFF = "handoff", _("Handed off to a person")
    CLASSIFIED = "classified", _("Classified only")
    SKIPPED = "skipped", _("Not handled")


class AssistantJob(models.Model):
    """What the assistant did with one inbound customer message (created by its task).

    Once processed it records the outcome (answered / handoff and why), which
    is what containment and handoff rates are computed from.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="assistant_jobs")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="assistant_job")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="assistant_jobs"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    intent = models.CharField(max_length=60, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "created_at"], name="assistant_job_brand_created"),
        ]

    def __str__(self) -> str:
        return f"assistant job #{self.pk} ({self.status})"


class ConversationState(models.Model):
    """What the assistant remembers of one conversation: a pending action, failures, handoff."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="assistant_state"
    )
    pending_action = models.CharField(max_length=40, blank=True)
    pending_intent = models.CharField(max_length=60, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)  # extracted: order_number, …
    # What the assistant said and tried, in order: [{"kind": ..., "text": ...}].
    history = models.JSONField(default=list, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    # The summary card shown to agents at the top of the conversation.
    summary = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"assistant state of {self.conversation}"

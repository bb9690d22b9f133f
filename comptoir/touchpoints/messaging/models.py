"""A brand's WhatsApp numbers and Messenger pages, with the secrets Meta's webhooks use."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.security.fields import EncryptedTextField
from comptoir.tenancy.models import Brand

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"


class Provider(models.TextChoices):
    # The values are also the conversation channels (conversations.models.Channel).
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")


class MessagingAccount(models.Model):
    """One WhatsApp Business phone number or one Facebook page connected to a brand.

    ``external_id`` is what Meta's payloads name the account by: the WhatsApp
    ``phone_number_id`` (``metadata.phone_number_id``) or the Messenger page id
    (``entry[].id``). It is unique per provider, so a payload can never land in
    two brands.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="messaging_accounts")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    external_id = models.CharField(
        _("account id"),
        max_length=64,
        help_text=_("WhatsApp phone number id, or Facebook page id for Messenger."),
    )
    display_name = models.CharField(_("display number or name"), max_length=120, blank=True)
    # Sends replies (Bearer token of the Graph API).
    access_token = EncryptedTextField(blank=True)
    # Signs webhook bodies (X-Hub-Signature-256: HMAC-SHA256 with the app secret).
    app_secret = EncryptedTextField()
    # Answers Meta's GET handshake when the webhook is configured.
    verify_token = EncryptedTextField()
    # Overridable so that tests and the demo point at a local server.
    api_base_url = models.URLField(max_length=300, default=DEFAULT_API_BASE_URL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="messaging_account_provider_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.display_name or self.external_id}"


class MessagingRoute(models.Model):
    """Where replies to a conversation go on one provider: which account, to whom.

    Written on each inbound message, so a reply leaves from the number or page
    the customer wrote to, to the WhatsApp id or PSID they wrote from.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="messaging_routes"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    account = models.ForeignKey(MessagingAccount, on_delete=models.CASCADE, related_name="routes")
    recipient_id = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "provider"], name="messaging_route_conversation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} route of conversation #{self.conversation_id}"

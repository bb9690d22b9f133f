"""What agents are told when a reply could not be delivered, in their language.

Senders raise ``DeliveryError`` with the provider's words (for the logs and the
administrator) and one of these codes; the console shows the code's sentence,
never the provider's text ("set … MESSAGING_DEMO_API_URL" means nothing to an agent).
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

NOT_CONFIGURED = "not_configured"
NO_ADDRESS = "no_address"
ADDRESS_FAILING = "address_failing"
RECIPIENT_REFUSED = "recipient_refused"
CONTENT_REFUSED = "content_refused"
PROVIDER_UNREACHABLE = "provider_unreachable"
PROVIDER_REFUSED = "provider_refused"
WINDOW_CLOSED = "window_closed"

AGENT_TEXTS: dict[str, Promise] = {
    NOT_CONFIGURED: _(
        "This channel is not set up for sending yet: ask an administrator, "
        "or answer on another channel."
    ),
    NO_ADDRESS: _("We have no address for this customer on this channel."),
    ADDRESS_FAILING: _(
        "The customer's address no longer receives messages: ask them for another one."
    ),
    RECIPIENT_REFUSED: _("The customer's provider refused the message."),
    CONTENT_REFUSED: _(
        "The message was refused (too large, or taken for spam): shorten it or remove files."
    ),
    PROVIDER_UNREACHABLE: _("The messaging service could not be reached."),
    PROVIDER_REFUSED: _("The messaging service refused the message."),
    WINDOW_CLOSED: _(
        "The customer has not written for too long: this channel no longer lets us write first."
    ),
}
UNKNOWN = _("The message could not be delivered.")


def agent_text(code: str) -> str:
    """The sentence agents read for a failure ``code`` (an unknown or empty code: a general one)."""
    return str(AGENT_TEXTS.get(code, UNKNOWN))

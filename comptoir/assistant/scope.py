"""Where the assistant works: the channels it may answer on and the languages it speaks."""

from comptoir.conversations.models import Channel

# Channels the assistant answers on; a call transcript (phone) is classified only.
ANSWERED_CHANNELS = {Channel.WEBCHAT, Channel.EMAIL, Channel.WHATSAPP, Channel.MESSENGER}
LANGUAGES = ("fr", "en")

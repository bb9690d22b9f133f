"""E-mail touchpoint: parsing raw RFC 5322 messages into ``InboundMessage``.

The parsing layer is deliberately free of I/O and of the database so the SMTP
listener, IMAP poller, HTTP endpoint and ``import-mail`` can all share it.
"""

from comptoir.touchpoints.email.loops import AutoSubmission, AutoSubmittedKind
from comptoir.touchpoints.email.parsing import (
    MailAttachment,
    ParsedMail,
    UnparseableMail,
    parse_mail,
    to_inbound,
)
from comptoir.touchpoints.email.quoting import fold_quoted_history

__all__ = [
    "AutoSubmission",
    "AutoSubmittedKind",
    "MailAttachment",
    "ParsedMail",
    "UnparseableMail",
    "fold_quoted_history",
    "parse_mail",
    "to_inbound",
]

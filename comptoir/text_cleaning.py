"""Text PostgreSQL can store: the one cleaning applied to every input at Comptoir's edges.

PostgreSQL refuses the NUL character in ``text`` and ``jsonb`` columns
("A string literal cannot contain NUL characters"), and psycopg cannot encode a
lone UTF-16 surrogate (``"\\ud800"``, which JSON may carry as an escape) in
UTF-8. Either one in a customer's message used to fail the whole request (500,
or a webhook answered 503 forever since the provider retries the same body).
Nothing a person reads is lost by dropping them, so every edge cleans its input
once, here, before anything is stored:

- ``InboundMessage`` (and its claims and attachments) cleans itself: every channel;
- ``text_cleaning_middleware``: query strings and form posts of every page (console, widget);
- JSON bodies (widget, webhooks after their signature check, the REST API's parser):
  ``clean_data`` on the decoded document;
- parsed mail (``touchpoints.email.parsing``) and quarantined mail's header columns.

SQLite would store both characters, but the same cleaning runs on both databases so a
message reads the same whichever one holds it.
"""

import re
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.decorators import sync_and_async_middleware

# NUL is dropped; a lone surrogate (never valid alone in UTF-8) becomes U+FFFD, the
# replacement character, so the reader sees that something was there.
_NUL = "\x00"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """``text`` without NUL and with lone surrogates replaced: storable by PostgreSQL.

    Cheap on the common case (two C-level scans of a clean string).
    """
    if _NUL in text:
        text = text.replace(_NUL, "")
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(REPLACEMENT, text)
    return text


def clean_data(value: Any) -> Any:
    """A decoded JSON document (dicts, lists, strings…) with every string cleaned, keys too."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_data(key): clean_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_data(item) for item in value]
    return value


def clean_querydict(data: QueryDict) -> QueryDict:
    """A copy of ``data`` with every name and value cleaned (the same object when clean)."""
    if not any(
        _needs_cleaning(name) or any(_needs_cleaning(v) for v in data.getlist(name))
        for name in data
    ):
        return data
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for name in data:
        cleaned.setlist(clean_text(name), [clean_text(v) for v in data.getlist(name)])
    cleaned._mutable = False
    return cleaned


def _needs_cleaning(value: str) -> bool:
    return _NUL in value or bool(_LONE_SURROGATE.search(value))


# Signed webhooks verify a signature over the values exactly as sent (Twilio signs
# its form fields): they clean after the check, in their own view.
UNCLEANED_PATH_PREFIXES = ("/webhooks/",)

_cleaning_classes: dict[type, type] = {}


def _cleaning_class(request_class: type) -> type:
    """``request_class`` whose lazily parsed form and file names come out cleaned.

    A subclass rather than reading ``request.POST`` in the middleware: the widget
    installs its upload guard before the body is parsed, so parsing must stay lazy.
    """
    if request_class not in _cleaning_classes:

        def _load_post_and_files(self: HttpRequest) -> None:
            request_class._load_post_and_files(self)  # type: ignore[attr-defined]
            self._post = clean_querydict(self._post)  # type: ignore[attr-defined]
            for _field, uploads in self._files.lists():  # type: ignore[attr-defined]
                for uploaded in uploads:
                    if uploaded.name and _needs_cleaning(uploaded.name):
                        uploaded.name = clean_text(uploaded.name)

        _cleaning_classes[request_class] = type(
            f"Cleaning{request_class.__name__}",
            (request_class,),
            {"_load_post_and_files": _load_post_and_files},
        )
    return _cleaning_classes[request_class]


def clean_request(request: HttpRequest) -> None:
    """Clean the query string now and the form (and file names) when it is parsed."""
    if not request.path.startswith(UNCLEANED_PATH_PREFIXES):
        request.GET = clean_querydict(request.GET)
        request.__class__ = _cleaning_class(type(request))


@sync_and_async_middleware
def text_cleaning_middleware(get_response: Callable) -> Callable:
    """Every page's query string and form, cleaned before a view reads them."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            clean_request(request)
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        clean_request(request)
        return get_response(request)

    return middleware

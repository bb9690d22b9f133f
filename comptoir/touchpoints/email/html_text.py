"""HTML mail bodies: sanitising what we keep, and reading what we show as text.

Customer HTML is hostile by default (tracking pixels aside, it may carry
scripts, event handlers and ``javascript:`` links), so the kept copy goes
through ``nh3``. The text rendering is what agents read and what is stored as
the message text when a mail has no ``text/plain`` part.
"""

import re
from html.parser import HTMLParser

import nh3

MAX_HTML_CHARS = 2_000_000

# ``cid:`` lets the console later point inline images at their attachments.
_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}
_DROPPED_WITH_CONTENT = {"script", "style", "head", "title", "noscript", "template"}


def sanitise_html(html: str) -> str:
    """Keep the formatting of an HTML body, without anything that can run or phone home."""
    if not html.strip():
        return ""
    html = html[:MAX_HTML_CHARS].replace("\x00", "")
    cleaned = nh3.clean(html, clean_content_tags=_DROPPED_WITH_CONTENT, url_schemes=_URL_SCHEMES)
    return cleaned.strip()


_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
}
_SKIPPED_TAGS = {"script", "style", "head", "title", "noscript", "template"}


class _TextRenderer(HTMLParser):
    """A forgiving HTML-to-text pass: block structure, list bullets, link targets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")
        if tag == "pre":
            self.pre_depth += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.chunks.append(f"[{alt}]")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if re.match(r"(?i)(https?|mailto):", href) else None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "a" and self.links:
            href = self.links.pop()
            if href:
                target = href[7:] if href.lower().startswith("mailto:") else href
                tail = "".join(self.chunks[-3:])
                if target not in tail:
                    self.chunks.append(f" ({target})")
        if tag in _BLOCK_TAGS and tag != "li":
            self.chunks.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.chunks.append(data)
        else:
            self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Render an HTML body as readable plain text (never raises on broken markup)."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html[:MAX_HTML_CHARS])
        renderer.close()
    except Exception:  # noqa: S110 — HTMLParser is lenient; keep whatever it produced
        pass
    text = "".join(renderer.chunks).replace("\xa0", " ")
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

"""Template filters for showing mail in the console."""

from django import template

from comptoir.touchpoints.email.quoting import fold_quoted_history

register = template.Library()


@register.filter
def fold_history(text: str) -> tuple[str, str]:
    """``(new part, quoted history and signature)``; the template folds the second."""
    return fold_quoted_history(text or "")

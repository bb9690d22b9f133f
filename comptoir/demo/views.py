"""A small public shop page, "Maison Demo", that embeds the chat widget like a customer site."""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

DEMO_BRAND_SLUG = "maison-demo"

# Shop window content; each swatch is a CSS gradient so the page loads nothing external.
PRODUCTS = [
    {
        "name": _("Washed linen tablecloth"),
        "detail": _("Sage green, 160 x 250 cm"),
        "price": Decimal("89.00"),
        "swatch": "linear-gradient(135deg,#9cae94,#7d9176)",
        "tag": _("Best seller"),
    },
    {
        "name": _("Stoneware breakfast bowl"),
        "detail": _("Sand glaze, hand-thrown in Burgundy"),
        "price": Decimal("18.00"),
        "swatch": "radial-gradient(circle at 50% 40%,#efe3cf 0 38%,#cdb592 39% 60%,#e9dfd0 61%)",
        "tag": "",
    },
    {
        "name": _("Beeswax candle"),
        "detail": _("Lime blossom, 40 hours"),
        "price": Decimal("26.00"),
        "swatch": "linear-gradient(180deg,#f6efe2 0 18%,#e8c979 18% 100%)",
        "tag": _("New"),
    },
    {
        "name": _("Striped beach towel"),
        "detail": _("Organic cotton, 100 x 180 cm"),
        "price": Decimal("42.00"),
        "swatch": "repeating-linear-gradient(90deg,#2f5d8a 0 18px,#f3efe6 18px 36px)",
        "tag": "",
    },
    {
        "name": _("Olive wood serving board"),
        "detail": _("Each piece is unique"),
        "price": Decimal("55.00"),
        "swatch": "repeating-radial-gradient(ellipse at 30% 60%,#a0784f 0 6px,#8a6440 6px 11px)",
        "tag": "",
    },
    {
        "name": _("Enamel coffee pot"),
        "detail": _("Brick red, 1 litre"),
        "price": Decimal("64.00"),
        "swatch": "linear-gradient(160deg,#b5523b,#8f3a28)",
        "tag": _("Back in stock"),
    },
]


@require_safe
def home(request: HttpRequest) -> HttpResponseRedirect:
    """The site root shows the demo: it is what a first visitor wants to try."""
    return HttpResponseRedirect(reverse("demo:shop"))


@require_safe
def shop(request: HttpRequest) -> HttpResponse:
    """The shop page; public, with the widget tag exactly as a brand would paste it."""
    return render(request, "demo/shop.html", {"brand_slug": DEMO_BRAND_SLUG, "products": PRODUCTS})

"""The console's import page: upload an export (a zip), see each import's report.

Administrators only (403 below): an import writes customers and conversations
for the whole brand. The list shows the brand's own imports only.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from comptoir.moving_in.models import ImportRun
from comptoir.moving_in.uploads import queue_import
from comptoir.tenancy.access import check_role, request_membership
from comptoir.tenancy.models import Role

REFUSAL = "Only the brand's administrators import other help desks' exports."


class UploadForm(forms.Form):
    source = forms.ChoiceField(
        label=_("From"), choices=[("zendesk", "Zendesk"), ("chatwoot", "Chatwoot")]
    )
    file = forms.FileField(
        label=_("Export (a zip)"),
        help_text=_(
            "The export's files (users.json and tickets.json, or contacts.csv and "
            "conversations.json) in one zip."
        ),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def imports(request: HttpRequest) -> HttpResponse:
    membership = check_role(request_membership(request), Role.ADMIN, REFUSAL)
    form = UploadForm()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            queue_import(membership, form.cleaned_data["source"], form.cleaned_data["file"])
            messages.success(request, gettext("Export received: it is being imported."))
            return redirect("moving_in:imports")
        status = 400
    runs = ImportRun.objects.filter(brand_id=membership.brand_id).order_by("-id")[:20]
    return render(
        request,
        "moving_in/imports.html",
        {"membership": membership, "form": form, "runs": runs},
        status=status,
    )

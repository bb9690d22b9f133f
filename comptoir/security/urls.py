"""Second-factor and audit-log pages, under ``/console/security/`` (namespace ``security``)."""

from django.urls import path

from comptoir.security import views

app_name = "security"

urlpatterns = [
    path("console/security/two-factor/setup/", views.setup, name="setup"),
    path("console/security/two-factor/", views.verify, name="verify"),
    path("console/security/audit/", views.audit_log, name="audit_log"),
    path("console/security/audit/export", views.audit_export, name="audit_export"),
]

from django.contrib import admin
from django.urls import include, path

from comptoir.security.views import admin_login

urlpatterns = [
    path("", include("comptoir.demo.urls")),
    path("", include("comptoir.security.urls")),
    path("", include("comptoir.gdpr.urls")),
    path("console/", include("comptoir.console.urls")),
    path("", include("comptoir.assistant.urls")),
    path("", include("comptoir.routing.urls")),
    path("", include("comptoir.sla.urls")),
    path("", include("comptoir.outbound_webhooks.urls")),
    path("", include("comptoir.moving_in.urls")),
    path("", include("comptoir.widget.urls")),
    path("", include("comptoir.touchpoints.email.urls")),
    path("", include("comptoir.touchpoints.phone.urls")),
    path("", include("comptoir.touchpoints.messaging.urls")),
    path("", include("comptoir.search.urls")),
    path("", include("comptoir.surveys.urls")),
    path("", include("comptoir.reports.urls")),
    path("", include("comptoir.administration.urls")),
    path("", include("comptoir.canned.urls")),
    path("", include("comptoir.appointments.urls")),
    path("me/", include("comptoir.portal.urls")),
    path("api/", include("comptoir.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's login behind the login rate limit (lockout: django-axes, as everywhere).
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

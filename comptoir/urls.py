from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("comptoir.demo.urls")),
    path("console/", include("comptoir.console.urls")),
    path("", include("comptoir.assistant.urls")),
    path("", include("comptoir.routing.urls")),
    path("", include("comptoir.sla.urls")),
    path("", include("comptoir.widget.urls")),
    path("", include("comptoir.touchpoints.email.urls")),
    path("", include("comptoir.touchpoints.phone.urls")),
    path("", include("comptoir.touchpoints.messaging.urls")),
    path("", include("comptoir.search.urls")),
    path("", include("comptoir.appointments.urls")),
    path("api/", include("comptoir.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

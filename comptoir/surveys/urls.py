"""Survey URLs at the site root (namespace ``surveys``): the link page, the widget, the console."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.surveys import console_views, views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", views.answer_page, name="answer"),
    path("s/<str:token>/stop/", views.stop_surveys, name="stop"),
    path("widget/api/surveys/answer", views.widget_answer, name="widget_answer"),
    path("console/surveys/settings/", console_views.settings_page, name="settings"),
    path("console/surveys/follow-up/", console_views.proactive_page, name="proactive"),
    path(
        "console/surveys/follow-ups/<id:follow_up_id>/done/",
        console_views.follow_up_done,
        name="follow_up_done",
    ),
    path("console/c/<id:conversation_id>/survey/", console_views.send_survey, name="send"),
]

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("c/<id:conversation_id>/", views.conversation, name="conversation"),
    path("files/<id:attachment_id>/", views.attachment, name="attachment"),
    path("<slug:brand_slug>/", views.sign_in, name="sign_in"),
    path("<slug:brand_slug>/code/", views.enter_code, name="code"),
    path("<slug:brand_slug>/code/<str:token>/", views.code_link, name="code_link"),
    path("<slug:brand_slug>/new/", views.new_conversation, name="new"),
    path("<slug:brand_slug>/data/", views.my_data, name="data"),
    path("<slug:brand_slug>/data/export.json", views.export, name="export"),
    path("<slug:brand_slug>/data/erase/", views.erase, name="erase"),
    path("<slug:brand_slug>/unlink/", views.unlink, name="unlink"),
]

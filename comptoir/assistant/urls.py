"""Assistant URLs: agent assist in the console, the demo brand's order system."""

from django.urls import path

from comptoir.assistant import views

app_name = "assistant"

urlpatterns = [
    path("console/c/<int:conversation_id>/assist/", views.assist, name="assist"),
    path("demo/api/orders/<str:number>", views.demo_order, name="demo_order"),
]

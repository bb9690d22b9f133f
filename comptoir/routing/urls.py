"""Routing's console pages, mounted under ``/console/routing/`` (namespace ``routing``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.routing import board_views, console_views

app_name = "routing"

urlpatterns = [
    path("console/routing/", console_views.overview, name="console"),
    path("console/routing/skills/", console_views.skill_add, name="skill_add"),
    path("console/routing/agents/<id:membership_id>/", console_views.agent_edit, name="agent"),
    path(
        "console/routing/requirements/",
        console_views.requirement_add,
        name="requirement_add",
    ),
    path(
        "console/routing/requirements/<id:requirement_id>/delete/",
        console_views.requirement_delete,
        name="requirement_delete",
    ),
    path("console/routing/overflow/", console_views.overflow, name="overflow"),
    # The supervisor's live board
    path("console/board/", board_views.board, name="board"),
    path("console/board/fragment/", board_views.board_fragment, name="board_fragment"),
    path(
        "console/board/c/<id:conversation_id>/assign/",
        board_views.board_assign,
        name="board_assign",
    ),
    path("console/board/c/<id:conversation_id>/move/", board_views.board_move, name="board_move"),
    path(
        "console/board/c/<id:conversation_id>/priority/",
        board_views.board_priority,
        name="board_priority",
    ),
]

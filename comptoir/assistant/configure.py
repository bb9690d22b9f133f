"""Changes brand administrators make to their assistant from the console.

Each function saves one validated form (or deletes one object) in a
transaction and logs who did it. Retraining is not requested here: saving or
deleting an ``Intent`` fires the same signal as in the Django admin
(``signals.request_training``), so every path marks the brand alike.
Articles need no training: passages are ranked from the published articles
at each question (``processing.top_passages``).
"""

import logging

from django.db import transaction

from comptoir.assistant.forms import ArticleForm, IntentForm, SettingsForm
from comptoir.assistant.models import AssistantSettings, Intent, KnowledgeArticle
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)


def save_settings(admin: Membership, form: SettingsForm) -> AssistantSettings:
    with transaction.atomic():
        settings = form.save(commit=False)
        settings.brand = admin.brand
        settings.save()
    logger.info(
        "assistant settings of brand %s saved by %s (enabled=%s)",
        admin.brand_id,
        admin.user_id,
        settings.enabled,
    )
    return settings


def save_intent(admin: Membership, form: IntentForm) -> Intent:
    with transaction.atomic():
        intent = form.save(commit=False)
        intent.brand = admin.brand
        intent.save()
    logger.info("intent %s of brand %s saved by %s", intent.name, admin.brand_id, admin.user_id)
    return intent


def delete_intent(admin: Membership, intent: Intent) -> None:
    name = intent.name
    with transaction.atomic():
        intent.delete()
    logger.info("intent %s of brand %s deleted by %s", name, admin.brand_id, admin.user_id)


def save_article(admin: Membership, form: ArticleForm) -> KnowledgeArticle:
    with transaction.atomic():
        article = form.save(commit=False)
        article.brand = admin.brand
        article.save()
    logger.info("article %s of brand %s saved by %s", article.pk, admin.brand_id, admin.user_id)
    return article


def delete_article(admin: Membership, article: KnowledgeArticle) -> None:
    pk = article.pk
    with transaction.atomic():
        article.delete()
    logger.info("article %s of brand %s deleted by %s", pk, admin.brand_id, admin.user_id)

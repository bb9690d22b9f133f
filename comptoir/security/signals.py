"""Receivers that feed the audit log and start the session clocks.

Logins, failed logins and logouts (Django's auth signals), lockouts (django-axes),
role changes (a ``Membership`` saved with another role) and changes made through the
Django admin (its ``LogEntry`` rows).
"""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from comptoir.security.audit import record
from comptoir.security.models import AuditAction
from comptoir.security.sessions import start_session_clock
from comptoir.security.two_factor import required_step
from comptoir.tenancy.models import Membership


def _brand_of(user: Any) -> int | None:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .order_by("id")
        .values_list("brand_id", flat=True)
        .first()
    )


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    start_session_clock(request)
    # Decided now, once: the pages that follow need no query for it (re-checked every 5 min).
    required_step(request, user)
    record(AuditAction.LOGIN, request=request, user=user, brand_id=_brand_of(user))


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    record(
        AuditAction.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    record(AuditAction.LOCKED_OUT, request=request, username=str(username or "")[:150])


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    record(
        getattr(request, "_comptoir_logout_reason", "") or AuditAction.LOGOUT,
        request=request,
        user=user,
        brand_id=_brand_of(user),
    )


@receiver(pre_save, sender=Membership)
def _remember_role(sender: Any, instance: Membership, **kwargs: Any) -> None:
    previous = (
        Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
        if instance.pk
        else None
    )
    instance._previous_role = previous


@receiver(post_save, sender=Membership)
def _role_changed(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    previous = getattr(instance, "_previous_role", None)
    if created or previous is None or previous == instance.role:
        return
    record(
        AuditAction.ROLE_CHANGED,
        user=None,
        target=instance,
        member=instance.user.get_username(),
        before=previous,
        after=instance.role,
    )


@receiver(post_save, sender=LogEntry)
def _admin_change(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    record(
        AuditAction.SETTINGS_CHANGED,
        user=instance.user,
        target_type=instance.content_type.model if instance.content_type else "",
        target_id=instance.object_id or "",
        via="django admin",
        change=instance.get_change_message()[:500],
        object=instance.object_repr[:200],
    )

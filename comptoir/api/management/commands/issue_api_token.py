"""``comptoir issue_api_token <username>``: give an agent a key for the REST API.

The key is printed once and never stored (only its SHA-256 is), so whoever runs
the command must hand it to the integrator right away.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from comptoir.tenancy.models import ApiScope, ApiToken, Membership


class Command(BaseCommand):
    help = "Issue a REST API token acting as the given agent and print its key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The agent's user name.")
        parser.add_argument(
            "--brand", help="Slug of the brand the token acts for (default: the agent's first)."
        )
        parser.add_argument("--name", default="Command line", help="A label to recognise it by.")
        parser.add_argument(
            "--scope",
            choices=ApiScope.values,
            default=ApiScope.WRITE,
            help="read, write or admin (within the agent's role; default: write).",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=None,
            help="Days until the key stops working (default: never).",
        )

    def handle(
        self,
        *args,
        username: str,
        brand: str | None,
        name: str,
        scope: str,
        expires_days: int | None,
        **options,
    ) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        memberships = Membership.objects.select_related("brand").filter(user=user, is_active=True)
        if brand:
            memberships = memberships.filter(brand__slug=brand)
        membership = memberships.order_by("pk").first()
        if membership is None:
            where = f" in brand {brand!r}" if brand else ""
            raise CommandError(f"{username!r} is not an active agent{where}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, key = ApiToken.issue(membership, name[:80], scope=scope, expires_at=expires_at)
        self.stderr.write(
            f"Token {token.prefix}… ({scope}) for {username} @ {membership.brand.slug}. "
            "Keep the key now: it is not stored and cannot be shown again."
        )
        self.stdout.write(key)

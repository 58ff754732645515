"""Load the Tasty Chips Co. demo organization (idempotent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from herald.campaigns.demo import demo_load


class Command(BaseCommand):
    help = "Create the 'Tasty Chips Co.' demo organization and campaigns."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner-email", required=True, help="An existing user to own it.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner_email"]).first()
        if owner is None:
            raise CommandError(f"No user {options['owner_email']!r}; create it first.")
        organization = demo_load(owner=owner)
        self.stdout.write(f"Demo organization ready: {organization.name} ({organization.slug}).")

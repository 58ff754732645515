"""Create (or reuse) a user, an organization, a membership and a fresh API key.

So a script can drive Herald from nothing:

    KEY=$(manage.py provision --email ops@example.com --organization "Acme" --output key)
    curl -H "Authorization: Bearer $KEY" http://127.0.0.1:8000/api/v1/campaigns
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Role
from herald.accounts.models import Membership, Organization
from herald.accounts.services import api_key_create, membership_change_role, organization_create
from herald.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a user, organization, membership and API key; print the key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password", help="Set this password (otherwise a new user cannot sign in)."
        )
        parser.add_argument("--organization", required=True, help="Name of the organization.")
        parser.add_argument("--slug", help="Slug for a new organization (default: from the name).")
        parser.add_argument("--currency", default="USD", help="Default currency of a new org.")
        parser.add_argument("--time-zone", default="UTC", help="Time zone of a new org.")
        parser.add_argument("--role", default=Role.OWNER, choices=Role.values)
        parser.add_argument("--key-name", default="provisioned key")
        parser.add_argument(
            "--output",
            choices=["text", "key", "json"],
            default="text",
            help="'key' prints only the key, for scripts.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                result = self._provision(options)
        except DomainError as error:
            fields = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
            raise CommandError(f"{error.detail} {fields}".strip()) from error
        if options["output"] == "key":
            self.stdout.write(result["api_key"])
        elif options["output"] == "json":
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"User {result['email']} is {result['role']} of {result['organization']} "
                f"({result['organization_slug']}).\nAPI key (shown once): {result['api_key']}"
            )

    def _provision(self, options: dict[str, Any]) -> dict[str, str]:
        email = options["email"].strip().lower()
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email).first()
        if user is None:
            user = user_model.objects.create_user(username=email, email=email)
        if options["password"]:
            user.set_password(options["password"])
        elif not user.has_usable_password():
            user.set_unusable_password()
        user.save()
        organization = Organization.objects.filter(name=options["organization"]).first()
        if options["slug"]:
            organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            organization = organization_create(
                name=options["organization"],
                owner=user,
                slug=options["slug"],
                default_currency=options["currency"],
                time_zone=options["time_zone"],
            )
        membership, _created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": options["role"]}
        )
        if membership.role != options["role"]:
            # Through the service, so the organization always keeps an owner.
            membership = membership_change_role(
                actor=Actor.system(organization), membership=membership, role=options["role"]
            )
        api_key, raw_key = api_key_create(
            user=user, organization=organization, name=options["key_name"]
        )
        return {
            "email": email,
            "organization": organization.name,
            "organization_slug": organization.slug,
            "organization_id": str(organization.pk),
            "role": membership.role,
            "api_key_id": str(api_key.pk),
            "api_key": raw_key,
        }

"""Re-encrypt every sealed secret under the first key of HERALD_ENCRYPTION_KEYS.

Rotation: put the new key first in HERALD_ENCRYPTION_KEYS, keep the old one after it,
run this command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from herald.core.secretbox import SecretError, reseal
from herald.integrations.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the current first encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for connection in Connection.objects.select_for_update().exclude(
                sealed_access_token="", sealed_refresh_token=""
            ):
                try:
                    if connection.sealed_access_token:
                        connection.sealed_access_token = reseal(connection.sealed_access_token)
                        count += 1
                    if connection.sealed_refresh_token:
                        connection.sealed_refresh_token = reseal(connection.sealed_refresh_token)
                        count += 1
                except SecretError as error:
                    raise CommandError(
                        f"Connection {connection.pk} cannot be decrypted with the configured "
                        "keys; nothing was changed. Is the old key still listed?"
                    ) from error
                connection.save(update_fields=["sealed_access_token", "sealed_refresh_token"])
        self.stdout.write(f"Re-encrypted {count} secret(s) under the current key.")

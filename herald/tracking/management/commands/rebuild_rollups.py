"""Recompute first-party rollups from raw events and report any difference."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from herald.tracking.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Rebuild the rollups of a date range from raw events; report (and fix) differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--apply", action="store_true", help="Replace the stored rollups that differ."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            date_from = date.fromisoformat(options["date_from"])
            date_to = date.fromisoformat(options["date_to"])
        except ValueError as error:
            raise CommandError("Give dates as YYYY-MM-DD.") from error
        if date_to < date_from:
            raise CommandError("--to must not be before --from.")
        differences = rollup_rebuild(date_from=date_from, date_to=date_to, apply=options["apply"])
        for difference in differences:
            changes = ", ".join(
                f"{name}: {difference.stored[name]} → {difference.rebuilt[name]}"
                for name in difference.fields
            )
            self.stdout.write(
                f"{difference.day} campaign {difference.campaign_id} cell "
                f"{difference.cell_key[:12]}: {changes}"
            )
        verdict = "replaced" if options["apply"] and differences else "found"
        self.stdout.write(
            f"{len(differences)} difference(s) {verdict} between {date_from} and {date_to}."
        )

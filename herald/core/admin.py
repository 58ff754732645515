from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from herald.core.models import IdempotencyRecord, PeriodicJob


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "next_run_at", "last_enqueued_at"]
    search_fields = ["name"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "key",
        "organization",
        "principal",
        "method",
        "path",
        "status_code",
        "created_at",
    ]
    list_filter = ["method", "status_code", "organization"]
    search_fields = ["key", "path"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

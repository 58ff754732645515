"""Enumerations of the campaign domain."""

from __future__ import annotations

from django.db import models

__all__ = [
    "ActorType",
    "BudgetKind",
    "CampaignStatus",
    "LifecycleAction",
    "LogOutcome",
    "Objective",
    "UnitStatus",
]


class Objective(models.TextChoices):
    AWARENESS = "awareness", "Awareness"
    TRAFFIC = "traffic", "Traffic"
    ENGAGEMENT = "engagement", "Engagement"
    LEADS = "leads", "Leads"
    SALES = "sales", "Sales"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    LAUNCHING = "launching", "Launching"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Error"


class LifecycleAction(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    LAUNCH = "launch", "Launch"
    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    COMPLETE = "complete", "Complete"
    CANCEL = "cancel", "Cancel"
    RETRY = "retry", "Retry"
    # Outcomes reported by the launch task, never requested by a person.
    LAUNCH_SUCCEEDED = "launch_succeeded", "Launch succeeded"
    LAUNCH_FAILED = "launch_failed", "Launch failed"


class BudgetKind(models.TextChoices):
    DAILY = "daily", "Daily"
    LIFETIME = "lifetime", "Lifetime"


class UnitStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ERROR = "error", "Error"


class LogOutcome(models.TextChoices):
    SUCCESS = "success", "Succeeded"
    FAILURE = "failure", "Failed"


class ActorType(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System"

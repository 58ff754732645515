"""The admin lists every model of Herald and keeps the audit trail read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from herald.campaigns.models import ExecutionLogEntry
from herald.campaigns.services.lifecycle import campaign_cancel
from herald.testing.factories import make_campaign, make_creative, make_unit, make_user

pytestmark = pytest.mark.django_db

HERALD_APPS = ("core", "accounts", "campaigns")


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_every_herald_model_is_registered_in_the_admin():
    herald_models = {
        model for label in HERALD_APPS for model in apps.get_app_config(label).get_models()
    }
    assert herald_models - set(admin.site._registry) == set()


def test_every_changelist_renders_with_data(superuser_client, owner):
    campaign = make_campaign(owner)
    make_creative(owner, make_unit(owner, campaign))
    campaign_cancel(actor=owner, campaign_id=campaign.pk, reason="demo")
    for model in admin.site._registry:
        if model._meta.app_label not in HERALD_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = superuser_client.get(url, {"q": "a"})
        assert response.status_code == 200, url


def test_execution_log_is_read_only_in_the_admin(superuser_client, owner):
    campaign = make_campaign(owner)
    campaign_cancel(actor=owner, campaign_id=campaign.pk, reason="")
    entry = ExecutionLogEntry.objects.get(campaign=campaign)
    model_admin = admin.site._registry[ExecutionLogEntry]
    request = type("Request", (), {"user": make_user(is_staff=True, is_superuser=True)})()
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request, entry) is False
    assert model_admin.has_delete_permission(request, entry) is False
    delete_url = reverse("admin:campaigns_executionlogentry_delete", args=[entry.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ExecutionLogEntry.objects.filter(pk=entry.pk).exists()

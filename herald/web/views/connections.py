"""The Connections page: connect, reconnect, sync and disconnect ad platforms.

Each connection is a card with the ad accounts it reaches and its last sync. "Sync now"
works without JavaScript (POST, then back to the page with a message); through htmx it
answers with the updated card, the refreshed list of recent syncs and the outcome for
the live region, so the page shows the result without reloading.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.channels import get_channel
from herald.core.errors import DomainError
from herald.integrations import selectors as integration_selectors
from herald.integrations.models import Connection, SyncRun
from herald.integrations.providers import PROVIDERS
from herald.integrations.services.accounts import ad_accounts_sync
from herald.integrations.services.connections import (
    connection_disconnect,
    connection_get_for_actor,
    connection_start,
)
from herald.web.access import actor_of, member_view

RECENT_RUNS = 10


def _card(actor: Actor, connection: Connection) -> dict[str, Any]:
    """What one connection card shows."""
    organization = actor.organization
    return {
        "connection": connection,
        "label": get_channel(connection.provider).label,
        "accounts": [
            account
            for account in integration_selectors.ad_account_list(
                organization=organization, provider=connection.provider
            )
            if account.connection_id == connection.pk
        ],
        "last_run": integration_selectors.sync_run_list(organization=organization)
        .filter(connection=connection)
        .first(),
    }


def _recent_runs(actor: Actor) -> list[SyncRun]:
    return list(integration_selectors.sync_run_list(organization=actor.organization)[:RECENT_RUNS])


def _sync_outcome(run: SyncRun) -> str:
    if run.status == SyncRun.Status.SUCCEEDED:
        return f"Synced: {run.rows} ad account{'' if run.rows == 1 else 's'} found."
    return f"Sync failed: {run.error}"


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to ``url``. Through htmx, by ``HX-Redirect``: a script's
    navigation, which the CSP's ``form-action 'self'`` does not cover, whereas a form
    POST answered by a redirect to the platform is blocked by it."""
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def _connect(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Begin the OAuth round trip (connect, or reconnect a connection)."""
    actor.require(Permission.INTEGRATION_MANAGE)
    if not request.session.session_key:
        request.session.save()
    try:
        url = connection_start(
            actor=actor,
            provider=request.POST.get("provider", ""),
            sandbox=request.POST.get("sandbox") == "1",
            session_key=request.session.session_key,
            reconnect_id=request.POST.get("reconnect_id") or None,
        )
    except DomainError as error:
        messages.error(request, error.detail)
        return _go(request, reverse("web:connections"))
    return _go(request, url)


@member_view(Permission.INTEGRATION_VIEW)
def connections(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        return _connect(request, actor)
    return render(
        request,
        "web/connections.html",
        {
            "cards": [
                _card(actor, connection)
                for connection in integration_selectors.connection_list(
                    organization=actor.organization
                )
            ],
            "runs": _recent_runs(actor),
            "providers": [get_channel(key) for key in PROVIDERS],
            "sandbox_enabled": settings.HERALD_SANDBOX_ENABLED,
            "can_manage": actor.can(Permission.INTEGRATION_MANAGE),
        },
    )


@require_POST
@member_view(Permission.INTEGRATION_MANAGE)
def connection_action(request: HttpRequest, connection_id: str, action: str) -> HttpResponse:
    actor = actor_of(request)
    connection = connection_get_for_actor(actor=actor, connection_id=connection_id)
    if action == "disconnect":
        connection_disconnect(actor=actor, connection_id=connection.pk)
        messages.success(request, "Disconnected; Herald's access was revoked.")
    elif action == "sync":
        run = ad_accounts_sync(connection=connection)
        outcome = _sync_outcome(run)
        if request.headers.get("HX-Request") == "true":
            # The sync may have changed the connection (needs_reauth) and its accounts.
            connection.refresh_from_db()
            return render(
                request,
                "web/connections.html#sync_response",
                {
                    "item": _card(actor, connection),
                    "result": run,
                    "outcome": outcome,
                    "runs": _recent_runs(actor),
                    "can_manage": True,
                    "oob": True,
                },
            )
        if run.status == SyncRun.Status.SUCCEEDED:
            messages.success(request, outcome)
        else:
            messages.error(request, outcome)
    else:
        raise Http404("No such action.")
    return HttpResponseRedirect(reverse("web:connections"))

"""The OAuth callback: where the platform sends the person's browser back."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from herald.core.errors import DomainError
from herald.integrations.services.connections import connection_complete

__all__ = ["oauth_callback"]


@login_required
def oauth_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """Finish connecting: the state must be the one issued to this person in this
    session; any refusal is shown on the page the person lands on."""
    try:
        connection = connection_complete(
            user=cast(User, request.user),
            provider=provider,
            state=request.GET.get("state", ""),
            code=request.GET.get("code"),
            error=request.GET.get("error"),
            session_key=request.session.session_key,
        )
    except DomainError as error:
        return render(request, "integrations/callback.html", {"message": error.detail}, status=400)
    return render(
        request,
        "integrations/callback.html",
        {"connection": connection, "accounts": connection.ad_accounts.count()},
    )

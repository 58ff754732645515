"""Connecting, refreshing and disconnecting ad platform accounts.

The OAuth round trip: ``connection_start`` issues a single-use ``state`` bound to the
person, organization and (for the browser) session that asked, and returns the
platform's authorization URL; ``connection_complete`` redeems that state on the
callback — refusing an unknown, replayed, expired or someone else's state and an
``error=`` answer — exchanges the code, seals the tokens, and syncs the ad accounts.

``connection_call`` runs a platform call with a fresh access token: it refreshes a token
about to expire, and on an auth error refreshes once and retries; when refreshing
fails the connection is marked ``needs_reauth`` and the caller gets the error.
Tokens are opened only here and never logged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.services._common import get_for_actor
from herald.core.errors import Conflict, InvalidInput, PreconditionFailed
from herald.core.secretbox import seal, unseal
from herald.integrations.endpoints import provider_endpoints
from herald.integrations.models import Connection, OAuthState
from herald.integrations.providers import PROVIDERS, get_adapter
from herald.integrations.providers.base import (
    ErrorKind,
    OAuthTokens,
    ProviderEndpoints,
    ProviderError,
)

__all__ = [
    "OAuthRefused",
    "connection_call",
    "connection_complete",
    "connection_disconnect",
    "connection_endpoints",
    "connection_get_for_actor",
    "connection_start",
    "redirect_uri",
]

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=15)
REFRESH_MARGIN = timedelta(minutes=5)


class OAuthRefused(PreconditionFailed):
    """The authorization round trip cannot be completed; ``detail`` says why."""

    code = "oauth-refused"
    title = "Connection refused"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def redirect_uri(provider: str) -> str:
    return settings.HERALD_PUBLIC_URL + reverse("integrations:callback", args=[provider])


def connection_get_for_actor(*, actor: Actor, connection_id: object) -> Connection:
    return get_for_actor(Connection, actor=actor, pk=connection_id, label="connection")


def connection_endpoints(connection: Connection) -> ProviderEndpoints:
    return provider_endpoints(connection.provider, sandbox=connection.is_sandbox)


def _validate_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidInput.single(
            "provider", "choice", f"{provider!r} is not a provider; use {', '.join(PROVIDERS)}."
        )
    return provider


def connection_start(
    *,
    actor: Actor,
    provider: str,
    sandbox: bool = False,
    session_key: str | None = None,
    reconnect_id: object | None = None,
) -> str:
    """Begin connecting ``provider``; return the URL to send the person's browser to."""
    actor.require(Permission.INTEGRATION_MANAGE)
    if actor.user is None:
        raise Conflict(detail="Only a person can connect an account.")
    _validate_provider(provider)
    endpoints = provider_endpoints(provider, sandbox=sandbox)
    reconnect = None
    if reconnect_id is not None:
        reconnect = connection_get_for_actor(actor=actor, connection_id=reconnect_id)
        if reconnect.provider != provider or reconnect.is_sandbox != sandbox:
            raise InvalidInput.single(
                "connection_id", "mismatch", "Reconnect with the same provider and mode."
            )
    state = secrets.token_urlsafe(32)
    OAuthState.objects.create(
        organization=actor.organization,
        provider=provider,
        state_hash=_hash(state),
        user=actor.user,
        session_key_hash=_hash(session_key) if session_key else "",
        is_sandbox=sandbox,
        reconnect=reconnect,
        expires_at=timezone.now() + STATE_LIFETIME,
    )
    return get_adapter(provider).authorization_url(
        endpoints=endpoints, state=state, redirect_uri=redirect_uri(provider)
    )


def _redeem_state(*, provider: str, state: str, user: User, session_key: str | None) -> OAuthState:
    record = (
        OAuthState.objects.select_related("organization")
        .filter(state_hash=_hash(state or ""))
        .first()
    )
    if record is None or record.provider != provider:
        raise OAuthRefused(detail="This connection link is not one Herald issued; start again.")
    if record.user_id != user.pk or (
        record.session_key_hash and record.session_key_hash != _hash(session_key or "")
    ):
        raise OAuthRefused(detail="This connection was started by someone else; start again.")
    if record.expires_at <= timezone.now():
        raise OAuthRefused(detail="This connection link has expired; start again.")
    claimed = OAuthState.objects.filter(pk=record.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise OAuthRefused(detail="This connection link was already used; start again.")
    redeemed: OAuthState = record
    return redeemed


def _store_tokens(connection: Connection, tokens: OAuthTokens) -> None:
    purpose = f"{connection.provider}.access_token"
    connection.sealed_access_token = seal(
        tokens.access_token, organization_id=connection.organization_id, purpose=purpose
    )
    if tokens.refresh_token:
        connection.sealed_refresh_token = seal(
            tokens.refresh_token,
            organization_id=connection.organization_id,
            purpose=f"{connection.provider}.refresh_token",
        )
    connection.token_expires_at = tokens.expires_at
    if tokens.scopes:
        connection.scopes = list(tokens.scopes)
    connection.last_refreshed_at = timezone.now()


def connection_complete(
    *,
    user: User,
    provider: str,
    state: str,
    code: str | None,
    error: str | None,
    session_key: str | None,
) -> Connection:
    """Finish the round trip on the platform's callback and sync the accounts found."""
    _validate_provider(provider)
    record = _redeem_state(provider=provider, state=state, user=user, session_key=session_key)
    if error:
        raise OAuthRefused(detail=f"The platform did not grant access ({error[:100]}).")
    if not code:
        raise OAuthRefused(detail="The platform sent no authorization code; start again.")
    endpoints = provider_endpoints(provider, sandbox=record.is_sandbox)
    try:
        tokens = get_adapter(provider).exchange_code(
            endpoints=endpoints, code=code, redirect_uri=redirect_uri(provider)
        )
    except ProviderError as failure:
        raise OAuthRefused(detail=f"The platform refused the code: {failure.message}") from None
    with transaction.atomic():
        connection = record.reconnect or Connection(
            organization=record.organization,
            provider=provider,
            is_sandbox=record.is_sandbox,
            connected_by=user,
        )
        _store_tokens(connection, tokens)
        connection.status = Connection.Status.ACTIVE
        connection.last_error = ""
        connection.save()
    from herald.integrations.services.accounts import ad_accounts_sync

    ad_accounts_sync(connection=connection)
    connection.refresh_from_db()
    return connection


def _access_token(connection: Connection) -> str:
    return unseal(
        connection.sealed_access_token,
        organization_id=connection.organization_id,
        purpose=f"{connection.provider}.access_token",
    )


def _mark_needs_reauth(connection: Connection, reason: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.NEEDS_REAUTH, last_error=reason[:1000]
    )
    connection.status = Connection.Status.NEEDS_REAUTH
    connection.last_error = reason[:1000]
    logger.warning("Connection %s needs reauthorization", connection.pk)


def _refresh(connection: Connection) -> None:
    if not connection.sealed_refresh_token:
        error = ProviderError(
            "The access expired and this platform cannot renew it; reconnect.",
            kind=ErrorKind.AUTH,
        )
        _mark_needs_reauth(connection, error.message)
        raise error
    refresh_token = unseal(
        connection.sealed_refresh_token,
        organization_id=connection.organization_id,
        purpose=f"{connection.provider}.refresh_token",
    )
    try:
        tokens = get_adapter(connection.provider).refresh(
            endpoints=connection_endpoints(connection), refresh_token=refresh_token
        )
    except ProviderError as error:
        if error.kind is ErrorKind.AUTH:
            _mark_needs_reauth(connection, error.message)
        raise
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        _store_tokens(locked, tokens)
        locked.save()
    connection.refresh_from_db()


def connection_call[T](connection: Connection, call: Callable[[str], T]) -> T:
    """Run ``call(access_token)`` against the platform with a valid token."""
    if connection.status != Connection.Status.ACTIVE:
        raise ProviderError(
            f"The {connection.provider} connection {connection.get_status_display().lower()}.",
            kind=ErrorKind.AUTH,
        )
    expires = connection.token_expires_at
    if expires is not None and expires - REFRESH_MARGIN <= timezone.now():
        _refresh(connection)
    try:
        return call(_access_token(connection))
    except ProviderError as error:
        if error.kind is not ErrorKind.AUTH:
            raise
    _refresh(connection)  # the platform said the token is bad: renew once and retry
    try:
        return call(_access_token(connection))
    except ProviderError as error:
        if error.kind is ErrorKind.AUTH:
            _mark_needs_reauth(connection, error.message)
        raise


def connection_disconnect(*, actor: Actor, connection_id: object) -> Connection:
    """Revoke the grant at the platform (best effort), forget the tokens, and mark the
    connection disconnected. Its accounts stay for history; launches on them stop."""
    actor.require(Permission.INTEGRATION_MANAGE)
    connection = connection_get_for_actor(actor=actor, connection_id=connection_id)
    if connection.sealed_access_token:
        token = (
            unseal(
                connection.sealed_refresh_token,
                organization_id=connection.organization_id,
                purpose=f"{connection.provider}.refresh_token",
            )
            if connection.sealed_refresh_token
            else _access_token(connection)
        )
        try:
            get_adapter(connection.provider).revoke(
                endpoints=connection_endpoints(connection), token=token
            )
        except ProviderError as error:
            logger.warning("Revoking connection %s failed: %s", connection.pk, error.kind)
    connection.sealed_access_token = ""
    connection.sealed_refresh_token = ""
    connection.token_expires_at = None
    connection.status = Connection.Status.DISCONNECTED
    connection.save()
    return connection

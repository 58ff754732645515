"""Ad accounts: what a connection can reach, and which one a campaign runs on."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.channels import AccountUnavailable, get_channel, validate_channel
from herald.campaigns.lifecycle import TERMINAL_STATUSES
from herald.campaigns.models import Campaign
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.errors import Conflict, InvalidInput
from herald.integrations.models import AdAccount, CampaignAdAccount, Connection, SyncRun
from herald.integrations.providers import get_adapter
from herald.integrations.providers.base import ProviderError, RemoteAccount
from herald.integrations.services.connections import connection_call, connection_endpoints

__all__ = [
    "AccountUnavailable",
    "ad_accounts_sync",
    "campaign_ad_account",
    "campaign_ad_account_set",
]

_STATUSES = {status.value for status in AdAccount.Status}


def ad_accounts_sync(*, connection: Connection) -> SyncRun:
    """List the accounts the connection reaches and upsert them by external id; accounts
    no longer listed are marked ``gone`` (never deleted: campaigns may point at them)."""
    run = SyncRun.objects.create(
        organization_id=connection.organization_id,
        kind=SyncRun.Kind.ACCOUNTS,
        connection=connection,
        started_at=timezone.now(),
    )
    adapter = get_adapter(connection.provider)
    endpoints = connection_endpoints(connection)
    try:
        remote: list[RemoteAccount] = connection_call(
            connection,
            lambda token: adapter.list_accounts(endpoints=endpoints, access_token=token),
        )
    except ProviderError as error:
        run.status, run.error, run.finished_at = (
            SyncRun.Status.FAILED,
            error.message,
            timezone.now(),
        )
        run.save()
        return run
    now = timezone.now()
    with transaction.atomic():
        seen = []
        for account in remote:
            AdAccount.objects.update_or_create(
                connection=connection,
                external_id=account.external_id,
                defaults={
                    "organization_id": connection.organization_id,
                    "provider": connection.provider,
                    "name": account.name[:200],
                    "currency": account.currency.upper()[:3],
                    "time_zone": account.time_zone[:64],
                    "status": account.status if account.status in _STATUSES else "pending",
                    "is_sandbox": connection.is_sandbox,
                    "settings": dict(account.extra),
                    "last_synced_at": now,
                },
            )
            seen.append(account.external_id)
        AdAccount.objects.filter(connection=connection).exclude(external_id__in=seen).update(
            status=AdAccount.Status.GONE
        )
        if not connection.name and remote:
            Connection.objects.filter(pk=connection.pk).update(name=remote[0].name[:200])
        run.status, run.rows, run.finished_at = SyncRun.Status.SUCCEEDED, len(remote), now
        run.save()
    return run


@transaction.atomic
def campaign_ad_account_set(
    *, actor: Actor, campaign_id: object, channel: str, ad_account_id: object | None
) -> Campaign:
    """Choose (or with ``None`` clear) the account the campaign uses on ``channel``.

    The account must belong to the organization, be on that channel's platform and be
    active; once the campaign has launched there, the account can no longer change.
    """
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    if campaign.status in TERMINAL_STATUSES:
        raise Conflict(detail=f"The campaign is {campaign.status}; it can no longer change.")
    channel_key = validate_channel(channel, field="channel").key
    field = f"accounts.{channel_key}"
    if not get_channel(channel_key).requires_ad_account:
        raise InvalidInput.single(field, "no_account", "This channel does not use ad accounts.")
    if campaign.channels.filter(channel=channel_key).exclude(external_id="").exists():
        raise Conflict(
            detail=f"The campaign already runs on {channel_key}; its account cannot change."
        )
    if ad_account_id is None:
        CampaignAdAccount.objects.filter(campaign=campaign, channel=channel_key).delete()
        return campaign
    account = AdAccount.objects.for_org(actor.organization).filter(pk=ad_account_id).first()
    if account is None:
        raise InvalidInput.single(field, "not_found", "No such ad account in this organization.")
    if account.provider != channel_key:
        raise InvalidInput.single(
            field, "wrong_platform", f"That account is on {account.provider}, not {channel_key}."
        )
    if account.status != AdAccount.Status.ACTIVE:
        raise InvalidInput.single(
            field, "inactive", f"That account is {account.get_status_display().lower()}."
        )
    if account.currency != campaign.currency:
        raise InvalidInput.single(
            field,
            "currency",
            f"That account spends in {account.currency}; the campaign is in {campaign.currency}.",
        )
    CampaignAdAccount.objects.update_or_create(
        campaign=campaign,
        channel=channel_key,
        defaults={"organization": campaign.organization, "ad_account": account},
    )
    return campaign


def campaign_ad_account(campaign: Campaign, channel: str) -> AdAccount | None:
    """The usable account of the campaign on ``channel``: ``None`` when none is chosen;
    ``AccountUnavailable`` when the chosen one cannot be used now (the reason is the
    message the launch checks show)."""
    link: CampaignAdAccount | None = (
        CampaignAdAccount.objects.select_related("ad_account__connection")
        .filter(campaign=campaign, channel=channel)
        .first()
    )
    if link is None:
        return None
    account: AdAccount = link.ad_account
    connection = account.connection
    if connection.status == Connection.Status.NEEDS_REAUTH:
        raise AccountUnavailable(
            f"The {get_channel(channel).label} connection needs reconnecting "
            f"({connection.last_error or 'its access was refused'})."
        )
    if connection.status == Connection.Status.DISCONNECTED:
        raise AccountUnavailable(
            f"The {get_channel(channel).label} connection was disconnected; connect it again."
        )
    if account.status != AdAccount.Status.ACTIVE:
        raise AccountUnavailable(
            f"The {get_channel(channel).label} account {account.name} is "
            f"{account.get_status_display().lower()}."
        )
    return account

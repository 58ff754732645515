"""The paid channels' adapter on Herald's side: turns a campaign into a provider's
``LaunchPlan``, persists each external id the moment the platform returns it, and
translates provider errors into the campaign domain's ``AdapterError``.

Installed on the ``google_ads`` and ``meta_ads`` channel registry entries by
``herald.integrations.channels``; the campaign launch task calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from herald.campaigns.adapters import AdapterError, ChannelLaunchResult
from herald.campaigns.models import (
    AdCreative,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignChannel,
    CampaignUnit,
)
from herald.integrations.models import AdAccount
from herald.integrations.providers import get_adapter
from herald.integrations.providers.base import (
    BudgetPlan,
    CreativePlan,
    ErrorKind,
    LaunchPlan,
    PlatformRefs,
    ProviderError,
    ProviderSession,
    UnitPlan,
)
from herald.integrations.services.accounts import campaign_ad_account
from herald.integrations.services.connections import connection_call, connection_endpoints

__all__ = ["PlatformChannelAdapter", "platform_label"]


def platform_label(name: str, herald_id: UUID) -> str:
    """The name Herald gives a platform object: readable, and unique through the id so
    a lost answer can be found again by name."""
    return f"{name[:180]} [herald {str(herald_id)[:8]}]"


def _adapter_error(error: ProviderError) -> AdapterError:
    return AdapterError(
        error.message,
        retryable=error.retryable,
        needs_reauth=error.kind is ErrorKind.AUTH,
        unit_id=error.unit_id,
        creative_id=error.creative_id,
        retry_after=error.retry_after,
    )


class _Recorder:
    """Writes each id as soon as it exists, each in its own short transaction."""

    def __init__(self, campaign: Campaign, channel: str, result: ChannelLaunchResult) -> None:
        self.campaign = campaign
        self.channel = channel
        self.result = result

    def campaign_created(self, external_id: str, refs: dict[str, str]) -> None:
        state, _created = CampaignChannel.objects.get_or_create(
            campaign=self.campaign,
            channel=self.channel,
            defaults={"organization_id": self.campaign.organization_id},
        )
        state.external_id = external_id
        state.external_refs = {**state.external_refs, **refs}
        state.save(update_fields=["external_id", "external_refs", "updated_at"])
        self.result.campaign_external_id = external_id

    def unit_created(self, unit_id: UUID, external_id: str) -> None:
        CampaignUnit.objects.filter(pk=unit_id, campaign=self.campaign).update(
            external_id=external_id
        )
        self.result.unit_external_ids[unit_id] = external_id

    def creative_created(self, creative_id: UUID, external_id: str, refs: dict[str, str]) -> None:
        creative = AdCreative.objects.get(pk=creative_id, unit__campaign=self.campaign)
        creative.external_refs = {**creative.external_refs, **refs}
        if external_id:
            creative.external_id = external_id
            self.result.creative_external_ids[creative_id] = external_id
        creative.save(update_fields=["external_id", "external_refs", "updated_at"])


@dataclass
class PlatformChannelAdapter:
    """The campaign domain's ``ChannelAdapter`` for one provider."""

    provider: str

    def _account(self, campaign: Campaign) -> AdAccount:
        account = campaign_ad_account(campaign, self.provider)
        if account is None:
            raise AdapterError("No ad account is chosen for this channel.", retryable=False)
        return account

    def _session(self, account: AdAccount, access_token: str) -> ProviderSession:
        return ProviderSession(
            endpoints=connection_endpoints(account.connection),
            access_token=access_token,
            account_external_id=account.external_id,
            account_currency=account.currency,
            account_time_zone=account.time_zone,
            extra={key: str(value) for key, value in account.settings.items()},
        )

    def _call(self, account: AdAccount, action: str, **kwargs: object) -> None:
        adapter = get_adapter(self.provider)
        try:
            connection_call(
                account.connection,
                lambda token: getattr(adapter, action)(
                    session=self._session(account, token), **kwargs
                ),
            )
        except ProviderError as error:
            raise _adapter_error(error) from error

    def _budget(self, campaign: Campaign) -> BudgetPlan:
        budget = CampaignBudget.objects.get(campaign=campaign)
        allocation = BudgetAllocation.objects.filter(budget=budget, channel=self.provider).first()
        return BudgetPlan(
            kind=budget.kind,
            amount=allocation.amount if allocation is not None else Decimal(0),
            currency=budget.currency,
        )

    def _plan(
        self,
        campaign: Campaign,
        units: list[CampaignUnit],
        creatives: dict[UUID, list[AdCreative]],
        state: CampaignChannel | None,
    ) -> LaunchPlan:
        return LaunchPlan(
            campaign_id=campaign.pk,
            label=platform_label(campaign.name, campaign.pk),
            objective=campaign.objective,
            start_at=campaign.start_at,
            end_at=campaign.end_at,
            time_zone=campaign.time_zone,
            budget=self._budget(campaign),
            units=tuple(
                UnitPlan(
                    unit_id=unit.pk,
                    label=platform_label(unit.name, unit.pk),
                    audience_rules=unit.audience.rules if unit.audience is not None else None,
                    budget_amount=unit.budget_amount,
                    external_id=unit.external_id,
                    creatives=tuple(
                        _creative_plan(creative) for creative in creatives.get(unit.pk, [])
                    ),
                )
                for unit in units
            ),
            external_id=state.external_id if state is not None else "",
            external_refs=dict(state.external_refs) if state is not None else {},
        )

    def launch(
        self,
        *,
        campaign: Campaign,
        units: list[CampaignUnit],
        creatives: dict[UUID, list[AdCreative]],
    ) -> ChannelLaunchResult:
        account = self._account(campaign)
        state = CampaignChannel.objects.filter(campaign=campaign, channel=self.provider).first()
        result = ChannelLaunchResult(
            campaign_external_id=state.external_id if state is not None else "",
            unit_external_ids={unit.pk: unit.external_id for unit in units if unit.external_id},
            creative_external_ids={
                creative.pk: creative.external_id
                for items in creatives.values()
                for creative in items
                if creative.external_id
            },
        )
        self._call(
            account,
            "launch",
            plan=self._plan(campaign, units, creatives, state),
            recorder=_Recorder(campaign, self.provider, result),
        )
        return result

    def _refs(self, campaign: Campaign, units: list[CampaignUnit]) -> PlatformRefs:
        state = CampaignChannel.objects.get(campaign=campaign, channel=self.provider)
        return PlatformRefs(
            campaign_external_id=state.external_id,
            campaign_refs=dict(state.external_refs),
            unit_external_ids=tuple(unit.external_id for unit in units if unit.external_id),
        )

    def pause(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None:
        self._call(
            self._account(campaign), "set_active", refs=self._refs(campaign, units), active=False
        )

    def resume(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None:
        self._call(
            self._account(campaign), "set_active", refs=self._refs(campaign, units), active=True
        )

    def update_budget(self, *, campaign: Campaign, units: list[CampaignUnit]) -> None:
        self._call(
            self._account(campaign),
            "update_budget",
            refs=self._refs(campaign, units),
            budget=self._budget(campaign),
        )


def _creative_plan(creative: AdCreative) -> CreativePlan:
    media = creative.media
    image_bytes = None
    if media is not None:
        with media.file.open("rb") as stored:
            image_bytes = stored.read()
    return CreativePlan(
        creative_id=creative.pk,
        label=platform_label(creative.name or (creative.headlines or ["Ad"])[0], creative.pk),
        headlines=tuple(creative.headlines),
        descriptions=tuple(creative.descriptions),
        primary_text=creative.primary_text,
        display_path=tuple(creative.display_path),
        destination_url=creative.destination_url,
        call_to_action=creative.call_to_action,
        image_name=media.original_name if media is not None else None,
        image_bytes=image_bytes,
        external_id=creative.external_id,
        external_refs=dict(creative.external_refs),
    )

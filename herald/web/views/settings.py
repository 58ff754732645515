"""The Settings page: the organization's details, its members and roles, and API keys.

Every write goes through ``herald.accounts.services``, which holds the rules (only an
owner grants, changes or removes the owner role; the last owner stays; members revoke
their own keys, admins anyone's). A refusal for bad input or a conflicting state is
shown beside the field it concerns, with the values the person typed; a refusal of the
role itself is a 403 and nothing changes. Which controls the page shows follows the
permission table, but the server decides whatever the page showed.

A new API key's plaintext is rendered in the response to the POST that created it and
nowhere else: it is never stored (not even in the session), so reloading the settings
page cannot show it again.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission, Role
from herald.accounts.models import ApiKey
from herald.accounts.selectors import api_key_list, membership_get, membership_list
from herald.accounts.services import (
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
    organization_delete,
    organization_update,
)
from herald.core.api import ACTIVE_ORGANIZATION_SESSION_KEY
from herald.core.errors import DomainError, NotFound, PermissionDenied
from herald.web.access import actor_of, member_view

__all__ = [
    "settings_api_key_create",
    "settings_api_key_revoke",
    "settings_member_add",
    "settings_member_remove",
    "settings_member_role",
    "settings_organization",
    "settings_organization_delete",
    "settings_page",
]

View = Callable[..., HttpResponse]

# Suggestions only (a datalist): the service accepts any ISO 4217 code.
COMMON_CURRENCIES = (
    "USD EUR GBP CAD AUD NZD JPY CHF SEK NOK DKK PLN CZK MXN BRL INR ZAR SGD HKD".split()
)


@cache
def _time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@dataclass
class FormState:
    """What one form shows: the submitted (or current) values and, per field, the
    messages of a refusal."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def refused(
        cls, error: DomainError, *, values: dict[str, str], fields: tuple[str, ...], default: str
    ) -> FormState:
        """Put each of the error's field messages beside its field (``default`` when the
        service named no field, or one this form does not have)."""
        errors: dict[str, list[str]] = {}
        for problem in error.errors:
            name = problem.field if problem.field in fields else default
            errors.setdefault(name, []).append(problem.message)
        if not errors:
            errors[default] = [error.detail]
        return cls(values=values, errors=errors)


def _back_on_get(anchor: str) -> Callable[[View], View]:
    """Action URLs answer POST; a GET (the address of a refused form, a bookmark) goes
    back to the settings page, at the section concerned."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "GET":
                return HttpResponseRedirect(f"{reverse('web:settings')}#{anchor}")
            if request.method != "POST":
                return HttpResponse(status=405, headers={"Allow": "GET, POST"})
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _member_rows(
    actor: Actor, refused: tuple[UUID, FormState] | None = None
) -> list[dict[str, Any]]:
    is_owner = actor.role == Role.OWNER
    rows = []
    for membership in membership_list(organization=actor.organization).order_by(
        "user__email", "user__username"
    ):
        form = FormState(values={"role": membership.role})
        if refused is not None and refused[0] == membership.pk:
            form = refused[1]
        rows.append(
            {
                "membership": membership,
                "dom_id": str(membership.pk),
                "is_you": actor.user is not None and membership.user_id == actor.user.pk,
                # Shown only when the service would not refuse it for the role alone.
                "can_change": actor.can(Permission.MEMBER_MANAGE)
                and (is_owner or membership.role != Role.OWNER),
                "form": form,
            }
        )
    return rows


def _role_choices(actor: Actor) -> list[tuple[str, str]]:
    """The roles the actor may hand out: an owner all, an admin all but owner."""
    if actor.role == Role.OWNER:
        return list(Role.choices)
    return [(value, label) for value, label in Role.choices if value != Role.OWNER]


def _render(
    request: HttpRequest,
    *,
    status: int = 200,
    organization_form: FormState | None = None,
    invite_form: FormState | None = None,
    member_refused: tuple[UUID, FormState] | None = None,
    key_form: FormState | None = None,
    delete_form: FormState | None = None,
    new_key: tuple[ApiKey, str] | None = None,
) -> HttpResponse:
    actor = actor_of(request)
    organization = actor.organization
    response = render(
        request,
        "web/settings/page.html",
        {
            "organization": organization,
            "can_edit_organization": actor.can(Permission.ORGANIZATION_EDIT),
            "can_delete_organization": actor.can(Permission.ORGANIZATION_DELETE),
            "can_manage_members": actor.can(Permission.MEMBER_MANAGE),
            "sees_all_keys": actor.can(Permission.API_KEY_MANAGE_ALL),
            "organization_form": organization_form
            or FormState(
                values={
                    "name": organization.name,
                    "default_currency": organization.default_currency,
                    "time_zone": organization.time_zone,
                }
            ),
            "invite_form": invite_form or FormState(values={"role": Role.VIEWER}),
            "key_form": key_form or FormState(),
            "delete_form": delete_form or FormState(),
            "members": _member_rows(actor, member_refused),
            "role_choices": _role_choices(actor),
            "api_keys": list(api_key_list(actor=actor)),
            "new_key": new_key,
            "currencies": COMMON_CURRENCIES,
            "time_zones": _time_zones(),
        },
        status=status,
    )
    if new_key is not None:
        add_never_cache_headers(response)  # the plaintext must not sit in a cache
    return response


@member_view(Permission.ORGANIZATION_VIEW)
def settings_page(request: HttpRequest) -> HttpResponse:
    return _render(request)


@_back_on_get("organization")
@member_view(Permission.ORGANIZATION_EDIT)
def settings_organization(request: HttpRequest) -> HttpResponse:
    fields = ("name", "default_currency", "time_zone")
    values = {name: request.POST.get(name, "") for name in fields}
    actor = actor_of(request)
    try:
        organization_update(actor=actor, **values)
    except DomainError as error:
        # The service sets fields on the instance before it refuses one: forget them,
        # or the page (its navigation included) would show values that were not saved.
        actor.organization.refresh_from_db()
        if isinstance(error, NotFound | PermissionDenied):
            raise
        form = FormState.refused(error, values=values, fields=fields, default="name")
        return _render(request, status=error.status, organization_form=form)
    messages.success(request, "Organization details saved.")
    return HttpResponseRedirect(f"{reverse('web:settings')}#organization")


@_back_on_get("danger-zone")
@member_view(Permission.ORGANIZATION_DELETE)
def settings_organization_delete(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    name = actor.organization.name
    typed = request.POST.get("confirm", "")
    if typed.strip() != name:
        # Not a rule of the organization: the page asks for the name so that a stray
        # click cannot delete everything.
        form = FormState(
            values={"confirm": typed},
            errors={"confirm": [f"Type the organization's name, {name}, to confirm."]},
        )
        return _render(request, status=422, delete_form=form)
    organization_delete(actor=actor)
    request.session.pop(ACTIVE_ORGANIZATION_SESSION_KEY, None)
    messages.success(request, f"{name} and everything in it were deleted.")
    return HttpResponseRedirect(reverse("web:home"))


@_back_on_get("members")
@member_view(Permission.MEMBER_MANAGE)
def settings_member_add(request: HttpRequest) -> HttpResponse:
    values = {"email": request.POST.get("email", ""), "role": request.POST.get("role", "")}
    try:
        membership = membership_add(actor=actor_of(request), **values)
    except DomainError as error:
        if isinstance(error, NotFound | PermissionDenied):
            raise
        form = FormState.refused(error, values=values, fields=("email", "role"), default="email")
        return _render(request, status=error.status, invite_form=form)
    user = membership.user
    note = (
        ""
        if user.has_usable_password()
        else " They are new to Herald and need a password before they can sign in."
    )
    messages.success(request, f"{user.email} joined as {membership.get_role_display()}.{note}")
    return HttpResponseRedirect(f"{reverse('web:settings')}#members")


@_back_on_get("members")
@member_view(Permission.MEMBER_MANAGE)
def settings_member_role(request: HttpRequest, membership_id: UUID) -> HttpResponse:
    actor = actor_of(request)
    membership = membership_get(organization=actor.organization, membership_id=membership_id)
    role = request.POST.get("role", "")
    try:
        changed = membership_change_role(actor=actor, membership=membership, role=role)
    except DomainError as error:
        if isinstance(error, NotFound | PermissionDenied):
            raise
        # The select shows the role as it still is, the refusal beside it.
        form = FormState.refused(
            error, values={"role": membership.role}, fields=("role",), default="role"
        )
        return _render(request, status=error.status, member_refused=(membership.pk, form))
    messages.success(request, f"{membership.user.email} is now {changed.get_role_display()}.")
    return HttpResponseRedirect(f"{reverse('web:settings')}#members")


@_back_on_get("members")
@member_view(Permission.MEMBER_MANAGE)
def settings_member_remove(request: HttpRequest, membership_id: UUID) -> HttpResponse:
    actor = actor_of(request)
    membership = membership_get(organization=actor.organization, membership_id=membership_id)
    try:
        membership_remove(actor=actor, membership=membership)
    except DomainError as error:
        if isinstance(error, NotFound | PermissionDenied):
            raise
        form = FormState.refused(
            error, values={"role": membership.role}, fields=(), default="remove"
        )
        return _render(request, status=error.status, member_refused=(membership.pk, form))
    if actor.user is not None and membership.user_id == actor.user.pk:
        request.session.pop(ACTIVE_ORGANIZATION_SESSION_KEY, None)
        messages.success(request, f"You left {actor.organization.name}.")
        return HttpResponseRedirect(reverse("web:home"))
    messages.success(
        request,
        f"{membership.user.email} was removed from {actor.organization.name}; "
        "their API keys here were revoked.",
    )
    return HttpResponseRedirect(f"{reverse('web:settings')}#members")


@_back_on_get("api-keys")
@member_view(Permission.API_KEY_MANAGE_OWN)
def settings_api_key_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    name = request.POST.get("name", "")
    if actor.user is None:  # pragma: no cover - member_view always has a person
        raise PermissionDenied(detail="Only members can hold API keys.")
    try:
        created = api_key_create(user=actor.user, organization=actor.organization, name=name)
    except DomainError as error:
        if isinstance(error, NotFound | PermissionDenied):
            raise
        form = FormState.refused(error, values={"name": name}, fields=("name",), default="name")
        return _render(request, status=error.status, key_form=form)
    return _render(request, status=201, new_key=created)


@_back_on_get("api-keys")
@member_view(Permission.API_KEY_MANAGE_OWN)
def settings_api_key_revoke(request: HttpRequest, api_key_id: UUID) -> HttpResponse:
    actor = actor_of(request)
    # Any key of this organization (another organization's is a 404); whether this
    # person may revoke it — their own, or anyone's for admins — is the service's call.
    api_key = ApiKey.objects.filter(organization=actor.organization, pk=api_key_id).first()
    if api_key is None:
        raise Http404("No such API key.")
    was_active = api_key.is_active
    api_key_revoke(actor=actor, api_key=api_key)
    if was_active:
        messages.success(
            request, f"The key {api_key.name} ({api_key.prefix}…) is revoked: it no longer works."
        )
    else:
        messages.info(request, f"The key {api_key.name} was already revoked.")
    return HttpResponseRedirect(f"{reverse('web:settings')}#api-keys")

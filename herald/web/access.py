"""How UI views find the acting member and check the permission table.

``@member_view(Permission.X)`` requires a signed-in user, resolves their membership in
the organization chosen in the session (or their first), checks the permission and
hands the view ``request.actor``. Objects are then fetched through the same
tenant-scoped services as the API, so another organization's id is a 404 here too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.response import TemplateResponse

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.accounts.selectors import member_actor
from herald.core.api import ACTIVE_ORGANIZATION_SESSION_KEY
from herald.core.errors import NotFound, PermissionDenied

__all__ = ["member_view"]

View = Callable[..., HttpResponse]


def member_view(permission: Permission) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = member_actor(
                user=request.user,
                organization_id=request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY),
            )
            if actor is None:
                return TemplateResponse(request, "web/no_organization.html", status=403)
            if not actor.can(permission):
                return HttpResponseForbidden("Your role does not allow this page.")
            request.actor = actor  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(error.detail) from error
            except PermissionDenied as error:
                return HttpResponseForbidden(error.detail)

        wrapper.herald_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]

"""Keep every error under ``/api/`` in problem+json, even the ones Django or ninja
answer before a Herald handler runs: an unknown URL (404) or a method the URL does not
support (405)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from herald.core.api import PROBLEM_CONTENT_TYPE, problem_response

__all__ = ["ApiProblemMiddleware"]


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in (404, 405):
            return response
        if response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE):
            return response
        if response.status_code == 404:
            return problem_response(
                request, status=404, code="not-found", detail="No API endpoint at this URL."
            )
        problem = problem_response(
            request,
            status=405,
            code="method-not-allowed",
            detail=f"{request.method} is not allowed here; use "
            f"{response.get('Allow', 'another method')}.",
        )
        if response.has_header("Allow"):
            problem["Allow"] = response["Allow"]
        return problem

"""Top-level URLs: the web UI, the admin, the API and uploaded media."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.static import serve

from herald.api import api

admin.site.site_header = "Herald administration"
admin.site.site_title = "Herald admin"


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages they render without our <link rel="icon">.
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("integrations/", include("herald.integrations.urls")),
    path("t/", include("herald.tracking.urls")),
    path("", include("herald.web.urls")),
    # Uploaded images are public by design (the platforms fetch them); names are
    # unguessable UUIDs. Behind a proxy, serve MEDIA_ROOT from the proxy instead.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]

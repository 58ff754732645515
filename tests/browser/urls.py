"""Herald's URLs plus a page that exercises htmx, the CSRF header and charts, for the
browser tests only (``@pytest.mark.urls("tests.browser.urls")``)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as herald_urlpatterns

DAYS = [f"2027-01-{day:02d}" for day in range(10, 24)]

SPEND = {
    "x": DAYS,
    "series": [
        {
            "label": "Spend",
            "values": [120, 135.5, 150, 149, 162, 170, None, 181, 190, 187, 205, 210, 222, 230],
            "format": {"style": "currency", "currency": "USD"},
        },
        {
            "label": "Clicks",
            "values": [300, 320, 310, 355, 380, 402, None, 415, 440, 431, 470, 480, 505, 530],
            "axis": "right",
        },
    ],
}
CONVERSIONS = {
    "x": DAYS,
    "series": [{"label": "Conversions", "bars": True, "values": list(range(3, 17))}],
    "height": 200,
}

PAGE = """{% extends "web/base.html" %}
{% block title %}Charts{% endblock %}
{% block content %}
<h1>Charts</h1>
<div class="chart" id="spend" data-chart="{{ spend }}" aria-label="Spend and clicks by day">
  <table class="chart-fallback"><tr><th>Day</th><th>Spend</th></tr></table>
</div>
<button type="button" hx-post="/browser-tests/fragment/" hx-target="#more">
  Load more <span class="htmx-indicator">…</span>
</button>
<section id="more"></section>
{% endblock %}
"""

FRAGMENT = """<h2>Conversions</h2>
<div class="chart" id="conversions" data-chart="{{ conversions }}"></div>"""


def _render(request: HttpRequest, source: str, **context: object) -> HttpResponse:
    template = engines["django"].from_string(source)
    return HttpResponse(template.render(context, request))


def charts_page(request: HttpRequest) -> HttpResponse:
    spend = "{not json" if request.GET.get("broken") else json.dumps(SPEND)
    return _render(request, PAGE, spend=spend)


@require_POST
def fragment(request: HttpRequest) -> HttpResponse:
    assert request.headers.get("HX-Request") == "true"
    return _render(request, FRAGMENT, conversions=json.dumps(CONVERSIONS))


urlpatterns = [
    path("browser-tests/charts/", charts_page),
    path("browser-tests/fragment/", fragment),
    *herald_urlpatterns,
]

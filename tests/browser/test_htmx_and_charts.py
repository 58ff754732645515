"""The groundwork every page builds on: charts from a data attribute (uPlot loaded on
demand), an htmx POST that passes Django's CSRF check with the header inherited from
<body>, and a chart inside the swapped-in fragment, all under the CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.browser.urls")]


def chart_width(page: Page, selector: str) -> float:
    width = page.locator(f"{selector} canvas").evaluate("c => c.getBoundingClientRect().width")
    return float(width)


def test_charts_render_and_follow_htmx_swaps(page, live_url, shot, browser_errors):
    page.goto(live_url("/browser-tests/charts/"))

    spend = page.locator("#spend")
    expect(spend).to_have_class("chart chart-rendered")
    expect(spend.locator("canvas")).to_have_count(1)
    # The legend names both series; the fallback table stays for screen readers only.
    expect(spend.locator(".u-legend")).to_contain_text("Spend")
    expect(spend.locator(".u-legend")).to_contain_text("Clicks")
    expect(spend.locator(".chart-fallback")).to_have_count(1)
    assert page.evaluate("typeof uPlot") == "function"
    assert 1100 < chart_width(page, "#spend") <= 1160  # main is 1200 px wide at most

    # htmx POSTs with the CSRF token (Django answers 403 without it) and swaps the
    # fragment in; the chart inside it is drawn too.
    with page.expect_response("**/browser-tests/fragment/") as answer:
        page.get_by_role("button", name="Load more").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("x-csrftoken")
    conversions = page.locator("#conversions")
    expect(conversions).to_have_class("chart chart-rendered")
    expect(conversions.locator("canvas")).to_have_count(1)
    assert page.locator("script[src*='uPlot']").count() == 1

    # Narrower window, narrower charts.
    page.set_viewport_size(MOBILE)
    page.wait_for_function(
        "() => document.querySelector('#spend canvas').getBoundingClientRect().width < 390"
    )
    shot(page, "charts")

    # Without the header, Django refuses the same POST.
    status = page.evaluate(
        "fetch('/browser-tests/fragment/', {method: 'POST', headers: {'HX-Request': 'true'}})"
        ".then(r => r.status)"
    )
    assert status == 403
    browser_errors[:] = [e for e in browser_errors if "403" not in e.text]

    # A chart whose element leaves the page is torn down.
    page.evaluate("document.querySelector('#more').replaceChildren()")
    page.wait_for_function("() => herald.charts.size === 1")


def test_a_chart_with_bad_data_says_so_in_the_console(page, live_url, browser_errors):
    page.goto(live_url("/browser-tests/charts/?broken=1"))
    page.wait_for_load_state("load")
    page.wait_for_function("() => typeof Alpine === 'object'")
    assert any("JSON" in error.text for error in browser_errors), browser_errors
    expect(page.locator("#spend")).not_to_have_class("chart chart-rendered")
    browser_errors.clear()

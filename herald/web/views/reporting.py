"""How the campaign pages and the dashboard show report numbers: rounding for people,
units, chart data and the period a page reports on.

The numbers come from ``herald.metrics.selectors`` exactly as the API gets them; this
module only rounds them once with ``formulas.quantize_for_display`` (as
``herald.metrics.api`` does for JSON and CSV) and adds the unit: ``1,234`` for counts,
``2.50%`` for percentages, ``3.20×`` for ratios, ``1,234.50 USD`` for money, ``—`` for
a metric that is undefined or unknown (never 0). Nothing here computes a metric.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from herald.campaigns.channels import get_channel
from herald.core.money import currency_exponent
from herald.metrics.definitions import MetricUnit
from herald.metrics.formulas import (
    DISPLAY_ROUNDING,
    PERCENT_DISPLAY_PLACES,
    metric_definition,
    quantize_for_display,
)

__all__ = [
    "DEFAULT_PERIOD_DAYS",
    "MISSING",
    "TABLE_METRICS",
    "Period",
    "channel_label",
    "chart_format",
    "chart_json",
    "chart_value",
    "metric_label",
    "percent",
    "short_label",
    "shown",
    "shown_figures",
    "table_cells",
]

DEFAULT_PERIOD_DAYS = 30
MISSING = "—"
# The columns of every table of figures (a breakdown, a campaign row, a channel).
TABLE_METRICS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "ctr",
    "conversions",
    "spend",
    "cpa",
    "roas",
)
SHORT_LABELS = {"ctr": "CTR", "roas": "ROAS", "cpa": "CPA", "cpc": "CPC", "cpm": "CPM"}
_UNIT_SUFFIX = {MetricUnit.PERCENT: "%", MetricUnit.RATIO: "×"}


def metric_label(key: str) -> str:
    try:
        return metric_definition(key).label
    except KeyError:
        return key.replace("_", " ").capitalize()


def _unit(key: str) -> MetricUnit | None:
    try:
        return metric_definition(key).unit
    except KeyError:
        return None


def _rounded(key: str, value: int | Decimal, currency: str) -> Decimal | int:
    if isinstance(value, int):
        return value
    try:
        rounded = quantize_for_display(key, value, currency_exponent=currency_exponent(currency))
    except KeyError:  # a measure with no definition (likes, gross impressions …)
        return value
    return value if rounded is None else rounded


def shown(key: str, value: int | Decimal | None, *, currency: str) -> str:
    """``value`` of measure or metric ``key`` as people read it, with its unit."""
    if value is None:
        return MISSING
    text = f"{_rounded(key, value, currency):,}"
    unit = _unit(key)
    if unit is MetricUnit.CURRENCY:
        return f"{text} {currency}"
    return text + _UNIT_SUFFIX.get(unit, "") if unit is not None else text


def percent(value: Decimal | None) -> str:
    """A plain percentage (a KPI's progress), to the display places of percentages."""
    if value is None:
        return MISSING
    places = Decimal(1).scaleb(-PERCENT_DISPLAY_PLACES)
    return f"{value.quantize(places, rounding=DISPLAY_ROUNDING):,}%"


def _pick(figures: Mapping[str, Any], key: str) -> int | Decimal | None:
    if key == "reach":
        value: int | Decimal | None = figures["reach"]
    elif key in figures["measures"]:
        value = figures["measures"][key]
    else:
        value = figures["metrics"][key]
    return value


def shown_figures(
    figures: Mapping[str, Any], *, currency: str, keys: Iterable[str] = TABLE_METRICS
) -> dict[str, str]:
    """The given keys of a report row (``Figures``) as text, by key."""
    return {key: shown(key, _pick(figures, key), currency=currency) for key in keys}


def table_cells(
    figures: Mapping[str, Any], *, currency: str, keys: Iterable[str] = TABLE_METRICS
) -> list[tuple[str, str]]:
    """A table row's cells: (column label, text) in the order of ``keys``."""
    return [
        (short_label(key), text)
        for key, text in shown_figures(figures, currency=currency, keys=keys).items()
    ]


def short_label(key: str) -> str:
    """The label of a column or tile: the usual abbreviation of a rate (CTR, ROAS …)."""
    return SHORT_LABELS.get(key) or metric_label(key)


def channel_label(key: str) -> str:
    if not key:
        return "Unattributed"
    try:
        return get_channel(key).label
    except KeyError:
        return key


# --- Charts -----------------------------------------------------------------------------------


def chart_value(key: str, value: int | Decimal | None, *, currency: str) -> float | int | None:
    """A value for a chart: rounded as on the page, as a JSON number."""
    if value is None:
        return None
    rounded = _rounded(key, value, currency)
    return rounded if isinstance(rounded, int) else float(rounded)


def chart_format(key: str, *, currency: str) -> dict[str, Any]:
    """The ``Intl.NumberFormat`` options herald.js formats the metric's values with."""
    unit = _unit(key)
    if unit is MetricUnit.CURRENCY:
        return {"style": "currency", "currency": currency}
    return {"maximumFractionDigits": 2}


def series_label(key: str) -> str:
    unit = _unit(key)
    suffix = {MetricUnit.PERCENT: " (%)", MetricUnit.RATIO: " (×)"}.get(unit) if unit else None
    return metric_label(key) + (suffix or "")


def chart_json(
    *,
    x: Sequence[Any],
    series: Sequence[Mapping[str, Any]],
    time: bool = True,
    x_label: str | None = None,
    height: int | None = None,
) -> str:
    """The ``data-chart`` attribute of a ``.chart`` (see herald.js)."""
    spec: dict[str, Any] = {
        "x": [value.isoformat() if isinstance(value, date) else value for value in x],
        "series": list(series),
    }
    if not time:
        spec["time"] = False
    if x_label is not None:
        spec["xLabel"] = x_label
    if height is not None:
        spec["height"] = height
    return json.dumps(spec, separators=(",", ":"))


# --- The period a page reports on -------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Inclusive calendar days ``date_from`` … ``date_to``."""

    date_from: date
    date_to: date

    @classmethod
    def last_days(cls, time_zone: str, days: int = DEFAULT_PERIOD_DAYS) -> Period:
        """The ``days`` days up to today in ``time_zone``."""
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(time_zone))
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def from_query(
        cls, query: QueryDict, *, time_zone: str, days: int = DEFAULT_PERIOD_DAYS
    ) -> tuple[Period, bool]:
        """The period named by ``?from=…&to=…`` (ISO days), each end defaulting to the
        last ``days`` days in ``time_zone``; and whether what was given could be read.
        Whether the range is acceptable is the selectors' call (they raise)."""
        default = cls.last_days(time_zone, days)
        try:
            date_to = _day(query.get("to")) or default.date_to
            date_from = _day(query.get("from")) or date_to - timedelta(days=days - 1)
        except ValueError:
            return default, False
        return cls(date_from, date_to), True

    def query(self) -> dict[str, str]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None

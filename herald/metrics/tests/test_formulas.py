"""The metrics engine: exact formulas, honest undefined values, the ROI calculator and KPI
status. Pure Python: no database."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.metrics.definitions import METRICS, MetricUnit
from herald.metrics.formulas import (
    ADDITIVE_MEASURES,
    EXTRA_METRICS,
    FORMULAS,
    KPI_AT_RISK_CEILING_PERCENT,
    KPI_AT_RISK_FLOOR_PERCENT,
    KPI_ON_TRACK_PERCENT,
    MEASURES,
    Formula,
    KpiStatus,
    add_measures,
    compute,
    kpi_status,
    metric_definition,
    metric_value,
    quantize_for_display,
    roi_report,
)

D = Decimal

# The brief's worked example, completed with the measures the other formulas read.
EXAMPLE: dict[str, int | Decimal] = {
    "impressions": 12000,
    "viewable_impressions": 9000,
    "clicks": 360,
    "billable_clicks": 350,
    "conversions": D(18),
    "conversion_value": D("1620.00"),
    "engagements": 600,
    "spend": D("450.00"),
    "reach": 4800,
    "total_marketing_spend": D("600.00"),
    "results": 30,
}

EXPECTED = {
    "ctr": D("3.00"),
    "cpc": D("1.25"),
    "cpm": D("37.50"),
    "cpa": D("25.00"),
    "conversion_rate": D("5.00"),
    "roas": D("3.6"),
    "roi": D("260.00"),
    "average_order_value": D("90.00"),
    "frequency": D("2.5"),
    "viewability_rate": D("75.00"),
    "engagement_rate": D("5.00"),
    "marketing_efficiency_ratio": D("2.7"),
    "cost_per_result": D("15.00"),
}


# --- Registry -----------------------------------------------------------------------------


def test_every_derived_metric_of_the_vocabulary_has_a_formula():
    derived = {key for key, definition in METRICS.items() if not definition.additive}
    assert derived - {"reach"} <= FORMULAS.keys()
    assert set(EXPECTED) == set(FORMULAS)


def test_formulas_take_label_unit_and_direction_from_the_definitions():
    for key, formula in FORMULAS.items():
        definition = metric_definition(key)
        assert (formula.label, formula.unit, formula.higher_is_better) == (
            definition.label,
            definition.unit,
            definition.higher_is_better,
        )
        assert formula.description
        if formula.unit is MetricUnit.PERCENT:
            assert formula.scale == 100


def test_every_measure_and_formula_key_is_defined_once():
    assert not EXTRA_METRICS.keys() & METRICS.keys()
    for key in (*MEASURES, *FORMULAS):
        assert metric_definition(key).key == key
    assert set(ADDITIVE_MEASURES) == set(MEASURES) - {"reach"}


def test_keys_beyond_metrics_are_the_engine_extras():
    wanted = {
        "billable_clicks",
        "total_marketing_spend",
        "results",
        "average_order_value",
        "marketing_efficiency_ratio",
        "cost_per_result",
    }
    assert set(EXTRA_METRICS) == wanted - METRICS.keys()


def test_unknown_definition_is_a_key_error():
    with pytest.raises(KeyError, match="nonsense"):
        metric_definition("nonsense")


def test_roi_subtracts_spend_through_a_signed_term():
    roi = FORMULAS["roi"]
    assert roi.numerator == ("conversion_value", "-spend")
    assert roi.measures == {"conversion_value", "spend"}


@pytest.mark.parametrize(
    ("numerator", "denominator", "scale", "message"),
    [
        (("clicks",), ("impresions",), D(1), "impresions"),
        (("-clickz",), ("impressions",), D(1), "clickz"),
        (("clicks",), (), D(1), "at least one term"),
        (("clicks",), ("impressions",), D(0), "scale"),
    ],
)
def test_a_malformed_formula_fails_when_built(numerator, denominator, scale, message):
    with pytest.raises(ValueError, match=message):
        Formula("x", "X", MetricUnit.RATIO, numerator, denominator, scale, True, "x")


# --- compute ------------------------------------------------------------------------------


def test_worked_example_gives_exact_values():
    assert compute(EXAMPLE) == EXPECTED


def test_brief_example_with_only_the_core_measures():
    core: dict[str, int | Decimal] = {
        "impressions": 12000,
        "clicks": 360,
        "spend": D("450.00"),
        "conversions": 18,
        "conversion_value": D("1620.00"),
    }
    result = compute(core)

    assert {key: result[key] for key in ("ctr", "cpc", "cpm", "cpa")} == {
        "ctr": D("3.00"),
        "cpc": D("1.25"),
        "cpm": D("37.50"),
        "cpa": D("25.00"),
    }
    assert result["conversion_rate"] == D("5.00")
    assert result["roas"] == D("3.6")
    assert result["roi"] == D("260.00")
    assert result["average_order_value"] == D("90.00")
    # Absent additive measures mean nothing happened; absent reach means unknown.
    assert result["viewability_rate"] == 0
    assert result["frequency"] is None


def test_selected_keys_only():
    assert compute(EXAMPLE, ["roas", "ctr"]) == {"roas": D("3.6"), "ctr": D("3.00")}
    assert compute(EXAMPLE, ()) == {}


@pytest.mark.parametrize("key", sorted(FORMULAS))
def test_zero_denominator_is_none(key):
    measures = dict(EXAMPLE)
    for term in FORMULAS[key].denominator:
        measures[term.lstrip("-")] = 0

    assert compute(measures, [key]) == {key: None}


@pytest.mark.parametrize("key", sorted(FORMULAS))
def test_everything_zero_is_none_never_an_error(key):
    assert compute(dict.fromkeys(ADDITIVE_MEASURES, 0), [key])[key] is None


def test_zero_numerator_is_a_real_zero():
    result = compute({**EXAMPLE, "clicks": 0, "conversions": 0}, ["ctr", "conversion_rate"])
    assert result == {"ctr": 0, "conversion_rate": None}


def test_a_losing_campaign_has_negative_roi():
    assert compute({"spend": D(200), "conversion_value": D(50)}, ["roi"]) == {"roi": D(-75)}


@pytest.mark.parametrize("measures", [{**EXAMPLE, "reach": None}, {"impressions": 1000}])
def test_unknown_reach_gives_unknown_frequency(measures):
    assert compute(measures, ["frequency"]) == {"frequency": None}


def test_an_unknown_measure_makes_only_its_metrics_unknown():
    result = compute({**EXAMPLE, "viewable_impressions": None, "spend": None})

    assert result["viewability_rate"] is None
    for key in ("cpc", "cpm", "cpa", "roas", "roi", "cost_per_result"):
        assert result[key] is None
    assert result["ctr"] == D("3.00")
    # MER's denominator is given, so an unknown spend does not reach it.
    assert result["marketing_efficiency_ratio"] == D("2.7")


@pytest.mark.parametrize("absent", [None, "missing"])
def test_total_marketing_spend_and_results_fall_back(absent):
    measures: dict[str, int | Decimal | None] = dict(EXAMPLE)
    for key in ("total_marketing_spend", "results"):
        if absent is None:
            measures[key] = None
        else:
            del measures[key]

    result = compute(measures)

    assert result["marketing_efficiency_ratio"] == result["roas"] == D("3.6")
    assert result["cost_per_result"] == result["cpa"] == D("25.00")


def test_fractional_conversions():
    result = compute(
        {"spend": D("100"), "conversions": D("2.5"), "clicks": 10}, ["cpa", "conversion_rate"]
    )
    assert result == {"cpa": D(40), "conversion_rate": D(25)}


def test_full_precision_is_kept():
    assert compute({"clicks": 1, "impressions": 3}, ["ctr"])["ctr"] == D(
        "33.33333333333333333333333333333333"
    )
    # A sub-cent CPM survives: rounding to cents here would report free impressions.
    assert compute({"spend": D("0.01"), "impressions": 100000}, ["cpm"])["cpm"] == D("0.0001")


def test_the_callers_decimal_context_does_not_leak_in():
    with localcontext() as context:
        context.prec = 3
        ctr = compute({"clicks": 1, "impressions": 3}, ["ctr"])["ctr"]
    assert ctr is not None
    assert len(ctr.as_tuple().digits) == 34


def test_unknown_metric_key_is_named():
    with pytest.raises(KeyError, match="cpx"):
        compute(EXAMPLE, ["ctr", "cpx"])


def test_a_single_string_of_keys_is_refused():
    with pytest.raises(TypeError, match="single string"):
        compute(EXAMPLE, "ctr")


def test_unknown_measure_key_is_named():
    with pytest.raises(KeyError, match="click"):
        compute({"click": 3, "impressions": 10})


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-1, ValueError, "clicks must not be negative"),
        (D("-0.01"), ValueError, "clicks must not be negative"),
        (D("NaN"), ValueError, "clicks must be a finite"),
        (D("Infinity"), ValueError, "clicks must be a finite"),
        (1.5, TypeError, "clicks must be an int or Decimal"),
        (True, TypeError, "clicks must be an int or Decimal"),
    ],
)
def test_bad_measure_values_are_refused(value, error, message):
    with pytest.raises(error, match=message):
        compute({"clicks": value, "impressions": 10})


# --- metric_value -------------------------------------------------------------------------


def test_metric_value_reads_measures_and_metrics():
    assert metric_value("clicks", EXAMPLE) == 360
    assert metric_value("ctr", EXAMPLE) == D("3.00")
    assert metric_value("engagements", {}) == 0
    assert metric_value("reach", {}) is None
    assert metric_value("results", {"conversions": D("4.5")}) == D("4.5")
    assert metric_value("total_marketing_spend", {"spend": D(7)}) == D(7)


def test_metric_value_unknown_key():
    with pytest.raises(KeyError, match="clickthrough"):
        metric_value("clickthrough", EXAMPLE)


# --- add_measures -------------------------------------------------------------------------


def test_add_measures_sums_exactly():
    rows: list[dict[str, int | Decimal]] = [{"spend": D("0.1"), "clicks": 1}] * 3

    totals = add_measures(rows)

    assert totals["spend"] == D("0.3")
    assert totals["clicks"] == 3
    assert type(totals["clicks"]) is int
    assert totals["impressions"] == 0
    assert "reach" not in totals
    assert "results" not in totals
    assert "total_marketing_spend" not in totals


def test_add_measures_then_compute_is_the_ratio_of_sums():
    days = [
        {"impressions": 1000, "clicks": 10},
        {"impressions": 9000, "clicks": 20},
    ]
    # Mean of the daily CTRs would be (1 % + 0.222… %) / 2; the honest CTR is 30 / 10000.
    assert compute(add_measures(days), ["ctr"]) == {"ctr": D("0.3")}


def test_add_measures_drops_reach():
    totals = add_measures([{"reach": 100, "impressions": 5}, {"reach": 80, "impressions": 5}])
    assert "reach" not in totals
    assert compute(totals, ["frequency"]) == {"frequency": None}


def test_add_measures_mixes_rows_with_and_without_fallback_measures():
    rows: list[dict[str, int | Decimal | None]] = [
        {"conversions": D(3), "results": 5, "spend": D(10)},
        {"conversions": D(2), "spend": D(20), "total_marketing_spend": None},
    ]

    totals = add_measures(rows)

    # The second row's results are its conversions, as compute would read it.
    assert totals["results"] == 7
    assert "total_marketing_spend" not in totals


def test_add_measures_of_nothing_is_zero():
    assert add_measures([]) == dict.fromkeys(
        [key for key in ADDITIVE_MEASURES if key not in {"results", "total_marketing_spend"}],
        0,
    )


def test_add_measures_refuses_negative_values_naming_the_key():
    with pytest.raises(ValueError, match="row 1: spend must not be negative"):
        add_measures([{"spend": D(1)}, {"spend": D(-1)}])


def test_add_measures_refuses_unknown_values_and_keys():
    with pytest.raises(ValueError, match="clicks is None"):
        add_measures([{"clicks": None}])
    with pytest.raises(KeyError, match="day"):
        add_measures([{"day": 1, "clicks": 1}])


# --- quantize_for_display -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "exponent", "expected"),
    [
        ("ctr", D("33.33333333333333333333333333333333"), 2, "33.33"),
        ("ctr", D("2.345"), 2, "2.34"),  # half-even
        ("ctr", D("2.355"), 2, "2.36"),
        ("roi", D("-12.5"), 2, "-12.50"),
        ("roas", D("3.6"), 2, "3.60"),
        ("frequency", D("2.125"), 2, "2.12"),
        ("cpc", D("1.255"), 2, "1.26"),
        ("cpm", D("0.0001"), 2, "0.00"),
        ("cpm", D("0.0001"), 4, "0.0001"),
        ("cpa", D("1234.5"), 0, "1234"),  # JPY; half-even
        ("spend", D("12.3456"), 3, "12.346"),  # KWD
        ("impressions", 12000, 2, "12000"),
        ("conversions", D("17.5"), 2, "17.50"),
        ("conversions", D("18.0000"), 2, "18"),
    ],
)
def test_display_rounding_per_unit(key, value, exponent, expected):
    shown = quantize_for_display(key, value, currency_exponent=exponent)
    assert shown is not None
    assert str(shown) == expected


def test_display_keeps_undefined_undefined():
    assert quantize_for_display("cpa", None) is None


def test_display_refuses_unknown_keys_and_bad_exponents():
    with pytest.raises(KeyError, match="cpx"):
        quantize_for_display("cpx", D(1))
    with pytest.raises(ValueError, match="currency_exponent"):
        quantize_for_display("cpc", D(1), currency_exponent=-1)
    with pytest.raises(TypeError):
        quantize_for_display("cpc", 1.5)  # type: ignore[arg-type]


# --- roi_report ---------------------------------------------------------------------------

WEEK = [{"spend": D(50), "conversion_value": D(150), "conversions": D(2)}] * 7


def test_roi_report_worked_example():
    report = roi_report(revenue=D("1620.00"), cost=D("450.00"), conversions=D(18))

    assert report.revenue == D("1620.00")
    assert report.cost == D("450.00")
    assert report.profit == D("1170.00")
    assert report.roi_percent == D(260)
    assert report.roas == D("3.6")
    assert report.break_even_conversions == D(5)  # 450 ÷ AOV 90
    assert report.payback_days is None  # no run-rate given
    assert report.projection is None


def test_roi_report_payback_from_the_run_rate():
    report = roi_report(revenue=D(1620), cost=D(450), conversions=D(18), recent_days=WEEK)

    # 100 a day profit recovers 450 in 4.5 days.
    assert report.payback_days == D("4.5")
    assert report.projection is None  # no days_remaining


def test_roi_report_losing_money():
    days = [{"spend": D(100), "conversion_value": D(40), "conversions": D(1)}] * 3

    report = roi_report(revenue=D(120), cost=D(300), conversions=D(3), recent_days=days)

    assert report.profit == D(-180)
    assert report.roi_percent == D(-60)
    assert report.roas == D("0.4")
    assert report.break_even_conversions == D("7.5")
    assert report.payback_days is None


def test_roi_report_breaking_even_run_rate_has_no_payback():
    days = [{"spend": D(10), "conversion_value": D(10)}]
    report = roi_report(revenue=D(10), cost=D(10), conversions=D(1), recent_days=days)
    assert report.payback_days is None


def test_roi_report_zero_cost_and_no_conversions():
    report = roi_report(revenue=D(0), cost=D(0), conversions=D(0))

    assert report.roi_percent is None
    assert report.roas is None
    assert report.break_even_conversions is None


def test_roi_report_conversions_without_value_never_break_even():
    report = roi_report(revenue=D(0), cost=D(100), conversions=D(4))
    assert report.break_even_conversions is None


def test_projection_without_a_budget_cap():
    report = roi_report(
        revenue=D(1620), cost=D(450), conversions=D(18), recent_days=WEEK, days_remaining=10
    )

    projection = report.projection
    assert projection is not None
    assert projection.days_elapsed == 7
    assert projection.days_remaining == 10
    assert (projection.daily_spend, projection.daily_revenue, projection.daily_conversions) == (
        D(50),
        D(150),
        D(2),
    )
    assert projection.projected_spend == D(950)
    assert projection.projected_revenue == D(3120)
    assert projection.projected_conversions == D(38)
    assert projection.projected_roas == D("3.284210526315789473684210526315789")
    assert projection.budget_capped is False


def test_projection_with_a_budget_cap_stops_delivery_when_the_budget_runs_out():
    report = roi_report(
        revenue=D(1620),
        cost=D(450),
        conversions=D(18),
        recent_days=WEEK,
        days_remaining=10,
        budget_remaining=D(300),
    )

    projection = report.projection
    assert projection is not None
    # 300 funds 6 of the 10 days at 50 a day.
    assert projection.projected_spend == D(750)
    assert projection.projected_revenue == D(1620 + 6 * 150)
    assert projection.projected_conversions == D(18 + 6 * 2)
    assert projection.projected_roas == D("3.36")
    assert projection.budget_capped is True


def test_projection_spend_never_exceeds_an_awkward_cap():
    days = [{"spend": D(3), "conversion_value": D(7)}] * 3
    report = roi_report(
        revenue=D(0),
        cost=D(0),
        conversions=D(0),
        recent_days=days,
        days_remaining=100,
        budget_remaining=D(10),
    )
    assert report.projection is not None
    assert report.projection.projected_spend == D(10)
    # 10 of spend funds 10 ÷ 3 days at 7 a day: rounded once, to 34 digits.
    assert report.projection.projected_revenue == D("23.33333333333333333333333333333333")


def test_projection_with_a_cap_that_does_not_bind():
    report = roi_report(
        revenue=D(1620),
        cost=D(450),
        conversions=D(18),
        recent_days=WEEK,
        days_remaining=10,
        budget_remaining=D(500),
    )
    assert report.projection is not None
    assert report.projection.projected_spend == D(950)
    assert report.projection.budget_capped is False


def test_projection_at_the_end_and_with_nothing_spent():
    ended = roi_report(
        revenue=D(10), cost=D(0), conversions=D(1), recent_days=[{}], days_remaining=0
    )
    assert ended.projection is not None
    assert ended.projection.projected_spend == 0
    assert ended.projection.projected_revenue == D(10)
    assert ended.projection.projected_roas is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cost": D(-1)}, "cost"),
        ({"revenue": D(-1)}, "revenue"),
        ({"conversions": D(-1)}, "conversions"),
        ({"days_remaining": -1}, "days_remaining"),
        ({"budget_remaining": D(-1)}, "budget_remaining"),
    ],
)
def test_roi_report_refuses_negative_inputs(changes, message):
    arguments = {"revenue": D(1), "cost": D(1), "conversions": D(1), **changes}
    with pytest.raises(ValueError, match=message):
        roi_report(recent_days=WEEK, **arguments)


# --- kpi_status ---------------------------------------------------------------------------


def test_thresholds_are_the_documented_ones():
    assert (
        D(100),
        D(80),
        D(120),
    ) == (KPI_ON_TRACK_PERCENT, KPI_AT_RISK_FLOOR_PERCENT, KPI_AT_RISK_CEILING_PERCENT)


@pytest.mark.parametrize(
    ("current", "status", "progress"),
    [
        (D(600), KpiStatus.ON_TRACK, D(120)),
        (D(500), KpiStatus.ON_TRACK, D(100)),
        (D("499.99"), KpiStatus.AT_RISK, D("99.998")),
        (D(400), KpiStatus.AT_RISK, D(80)),
        (D("399.99"), KpiStatus.BEHIND, D("79.998")),
        (D(0), KpiStatus.BEHIND, D(0)),
    ],
)
def test_cumulative_metrics_are_paced_against_time(current, status, progress):
    # Half the flight gone: 500 of the 1000 clicks are due.
    assert kpi_status(
        metric="clicks", target=D(1000), current=current, elapsed_fraction=D("0.5")
    ) == (status, progress)


@pytest.mark.parametrize("metric", ["impressions", "conversions", "spend", "reach", "results"])
def test_every_cumulative_metric_is_paced(metric):
    status = kpi_status(metric=metric, target=D(100), current=D(30), elapsed_fraction=D("0.25"))
    assert status == (KpiStatus.ON_TRACK, D(120))


@pytest.mark.parametrize("elapsed", [D(0), D("-0.5")])
def test_nothing_elapsed_is_on_track_without_progress(elapsed):
    assert kpi_status(metric="clicks", target=D(1000), current=D(0), elapsed_fraction=elapsed) == (
        KpiStatus.ON_TRACK,
        None,
    )


def test_elapsed_fraction_is_clamped_to_one():
    assert kpi_status(
        metric="clicks", target=D(1000), current=D(900), elapsed_fraction=D("1.5")
    ) == (KpiStatus.AT_RISK, D(90))


@pytest.mark.parametrize(
    ("current", "status", "progress"),
    [
        (D("2.5"), KpiStatus.ON_TRACK, D(125)),
        (D(2), KpiStatus.ON_TRACK, D(100)),
        (D("1.99"), KpiStatus.AT_RISK, D("99.5")),
        (D("1.6"), KpiStatus.AT_RISK, D(80)),
        (D("1.59"), KpiStatus.BEHIND, D("79.5")),
    ],
)
def test_higher_is_better_rates_compare_with_the_target(current, status, progress):
    # Elapsed time does not matter for a rate.
    assert kpi_status(metric="ctr", target=D(2), current=current, elapsed_fraction=D("0.1")) == (
        status,
        progress,
    )


@pytest.mark.parametrize(
    ("current", "status", "progress"),
    [
        (D(20), KpiStatus.ON_TRACK, D(80)),
        (D(25), KpiStatus.ON_TRACK, D(100)),
        (D("25.01"), KpiStatus.AT_RISK, D("100.04")),
        (D(30), KpiStatus.AT_RISK, D(120)),
        (D("30.01"), KpiStatus.BEHIND, D("120.04")),
    ],
)
def test_lower_is_better_rates_compare_with_the_target(current, status, progress):
    assert kpi_status(metric="cpa", target=D(25), current=current, elapsed_fraction=D("0.9")) == (
        status,
        progress,
    )


def test_ratio_metrics_and_extras():
    assert kpi_status(metric="roas", target=D(3), current=D("2.4"), elapsed_fraction=D(1)) == (
        KpiStatus.AT_RISK,
        D(80),
    )
    assert kpi_status(
        metric="cost_per_result", target=D(10), current=D(13), elapsed_fraction=D(1)
    ) == (KpiStatus.BEHIND, D(130))


def test_losing_roi_is_behind():
    assert kpi_status(metric="roi", target=D(50), current=D(-20), elapsed_fraction=D(1)) == (
        KpiStatus.BEHIND,
        D(-40),
    )


def test_zero_target_has_no_progress():
    assert kpi_status(metric="roi", target=D(0), current=D(5), elapsed_fraction=D(1)) == (
        KpiStatus.ON_TRACK,
        None,
    )
    assert kpi_status(metric="cpa", target=D(0), current=D(5), elapsed_fraction=D(1)) == (
        KpiStatus.BEHIND,
        None,
    )


def test_unknown_current_has_no_status():
    assert kpi_status(metric="cpa", target=D(25), current=None, elapsed_fraction=D(1)) == (
        None,
        None,
    )


def test_kpi_status_refuses_bad_input():
    with pytest.raises(KeyError, match="cpx"):
        kpi_status(metric="cpx", target=D(1), current=D(1), elapsed_fraction=D(1))
    with pytest.raises(ValueError, match="target"):
        kpi_status(metric="roi", target=D(-10), current=D(1), elapsed_fraction=D(1))
    with pytest.raises(ValueError, match="elapsed_fraction"):
        kpi_status(metric="ctr", target=D(1), current=D(1), elapsed_fraction=D("NaN"))
    with pytest.raises(ValueError, match="current"):
        kpi_status(metric="ctr", target=D(1), current=D("Infinity"), elapsed_fraction=D(1))


# --- Properties ---------------------------------------------------------------------------

_COUNTS = st.integers(min_value=0, max_value=10**15)
_AMOUNTS = st.decimals(min_value=0, max_value=10**12, places=6)


@st.composite
def _measures(draw: st.DrawFn) -> dict[str, int | Decimal | None]:
    measures: dict[str, int | Decimal | None] = {
        key: draw(_COUNTS)
        for key in ("impressions", "viewable_impressions", "clicks", "billable_clicks")
    }
    measures["engagements"] = draw(_COUNTS)
    for key in ("conversions", "conversion_value", "spend"):
        measures[key] = draw(_AMOUNTS)
    measures["reach"] = draw(st.none() | _COUNTS)
    for key in ("total_marketing_spend", "results"):
        # Absent and None both fall back; given values are used as they are.
        choice = draw(st.sampled_from(["absent", "none", "given"]))
        if choice == "none":
            measures[key] = None
        elif choice == "given":
            measures[key] = draw(_AMOUNTS)
    return measures


@given(_measures())
def test_compute_never_raises_and_bounded_rates_stay_in_0_to_100(measures):
    result = compute(measures)

    assert set(result) == set(FORMULAS)
    for key, (numerator, denominator) in {
        "ctr": ("clicks", "impressions"),
        "conversion_rate": ("conversions", "clicks"),
        "viewability_rate": ("viewable_impressions", "impressions"),
    }.items():
        value = result[key]
        if measures[denominator] == 0:
            assert value is None
        elif measures[numerator] <= measures[denominator]:
            assert value is not None
            assert 0 <= value <= 100
    for key, value in result.items():
        if value is not None and key != "roi":
            assert value >= 0


@given(st.lists(_measures(), max_size=5))
def test_compute_of_summed_rows_never_raises(rows):
    for row in rows:
        row.pop("reach")
    totals = add_measures(rows)
    compute(totals)
    assert totals["clicks"] == sum(row["clicks"] for row in rows)

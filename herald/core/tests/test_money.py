"""Currencies and amounts: ISO 4217 codes and each currency's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from herald.core.errors import InvalidInput
from herald.core.money import currency_exponent, validate_amount, validate_currency


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


# --- validate_currency ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("USD", "USD"), ("eur", "EUR"), (" jpy ", "JPY"), ("KWD", "KWD"), ("chf", "CHF")],
)
def test_valid_currencies_are_normalized(value, expected):
    assert validate_currency(value) == expected


@pytest.mark.parametrize(
    "value",
    ["XAU", "XAG", "XXX", "XTS", "XDR", "BOV", "XYZ", "US", "USDD", "", None, "€", "usd1"],
)
def test_unknown_or_unspendable_currencies_are_refused(value):
    with pytest.raises(InvalidInput) as excinfo:
        validate_currency(value)

    assert _rules(excinfo) == [("currency", "iso_4217")]


def test_currency_error_names_the_given_field():
    with pytest.raises(InvalidInput) as excinfo:
        validate_currency("XAU", field="default_currency")

    assert _rules(excinfo) == [("default_currency", "iso_4217")]
    assert excinfo.value.errors[0].message == (
        "'XAU' is not an ISO 4217 currency code such as USD or EUR."
    )


# --- currency_exponent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("CLP", 0),
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("TND", 3),
    ],
)
def test_currency_exponent(code, exponent):
    assert currency_exponent(code) == exponent


# --- validate_amount --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1", "JPY"),
        ("1000", "JPY"),
        ("1000.0", "JPY"),
        ("0.01", "USD"),
        ("12.5", "USD"),
        ("12.50", "USD"),
        ("0.001", "KWD"),
        ("1.234", "KWD"),
        ("99999999999.99", "USD"),
        ("99999999999.999", "KWD"),
    ],
)
def test_amounts_within_the_currency_precision_are_accepted(amount, currency):
    assert validate_amount(Decimal(amount), currency=currency, field="amount") == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.5", "JPY"), ("1000.1", "JPY"), ("0.001", "USD"), ("1.005", "EUR"), ("1.0001", "KWD")],
)
def test_more_decimals_than_the_currency_has_are_refused(amount, currency):
    with pytest.raises(InvalidInput) as excinfo:
        validate_amount(Decimal(amount), currency=currency, field="budget.amount")

    assert _rules(excinfo) == [("budget.amount", "currency_precision")]


@pytest.mark.parametrize("amount", ["0", "-0.01", "-1"])
def test_amount_must_be_positive_by_default(amount):
    with pytest.raises(InvalidInput) as excinfo:
        validate_amount(Decimal(amount), currency="USD", field="amount")

    assert _rules(excinfo) == [("amount", "positive")]


def test_zero_is_allowed_when_asked_but_negative_is_not():
    assert validate_amount(Decimal("0"), currency="USD", field="a", allow_zero=True) == 0

    with pytest.raises(InvalidInput) as excinfo:
        validate_amount(Decimal("-0.01"), currency="USD", field="a", allow_zero=True)

    assert _rules(excinfo) == [("a", "min_value")]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amounts_are_refused(amount):
    with pytest.raises(InvalidInput) as excinfo:
        validate_amount(Decimal(amount), currency="USD", field="amount")

    assert _rules(excinfo) == [("amount", "finite")]


@pytest.mark.parametrize(
    "amount",
    ["100000000000", "100000000000.00", "1E+30", "123456789012345678901234567890.5"],
)
def test_amounts_that_do_not_fit_the_column_are_refused(amount):
    # Huge values are refused by name, never with a decimal.InvalidOperation
    with pytest.raises(InvalidInput) as excinfo:
        validate_amount(Decimal(amount), currency="USD", field="amount")

    assert _rules(excinfo) == [("amount", "max_value")]

"""Money: ``Decimal`` amounts with an ISO 4217 currency, never floats.

Amounts are stored with three decimal places in the database (enough for KWD); a
currency's own number of minor-unit digits (0 for JPY, 2 for USD, 3 for KWD) decides
what an amount may carry, and ``quantize_amount`` shows an amount with exactly those. Platform
units (Google micros, Meta minor units) are converted in each adapter, not here.
"""

from __future__ import annotations

from decimal import Decimal

import pycountry

from herald.core.errors import InvalidInput

__all__ = [
    "AMOUNT_DECIMAL_PLACES",
    "AMOUNT_MAX_DIGITS",
    "currency_exponent",
    "quantize_amount",
    "validate_amount",
    "validate_currency",
]

AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 3

# ISO 4217 minor-unit digits where they differ from 2.
_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())
# Funds codes and precious metals are ISO 4217 entries no one budgets in.
_NOT_SPENDABLE = frozenset(
    "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX BOV CHE CHW CLF COU MXV USN UYW".split()
)


def currency_exponent(code: str) -> int:
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def quantize_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly the currency's minor-unit digits (3000.000 USD → 3000.00)."""
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)))


def validate_currency(value: str, *, field: str = "currency") -> str:
    """Return the upper-cased ISO 4217 code, or raise ``InvalidInput`` naming ``field``."""
    code = (value or "").strip().upper()
    if len(code) != 3 or code in _NOT_SPENDABLE or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidInput.single(
            field, "iso_4217", f"{value!r} is not an ISO 4217 currency code such as USD or EUR."
        )
    return code


def validate_amount(
    amount: Decimal, *, currency: str, field: str, allow_zero: bool = False
) -> Decimal:
    """Check that ``amount`` is positive (or zero when allowed), fits the column and has
    no more decimal places than ``currency`` has minor units."""
    if not amount.is_finite():
        raise InvalidInput.single(field, "finite", "The amount must be a number.")
    if amount < 0 or (amount == 0 and not allow_zero):
        rule, words = ("min_value", "zero or more") if allow_zero else ("positive", "more than 0")
        raise InvalidInput.single(field, rule, f"The amount must be {words}.")
    # Checked before the precision: quantizing a huge amount would overflow the decimal
    # context and raise InvalidOperation instead of naming the field.
    if amount >= Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES):
        raise InvalidInput.single(field, "max_value", "The amount is too large.")
    exponent = currency_exponent(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise InvalidInput.single(
            field,
            "currency_precision",
            f"{currency} amounts have {exponent} decimal places at most.",
        )
    return amount

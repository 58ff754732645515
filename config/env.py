"""Typed readers for settings that come from the environment.

Every reader names the variable it reads in its error, so a misconfigured deployment
fails at start-up with a message that says exactly what to set. A variable ``NAME`` may
also be given as ``NAME_FILE`` (a path whose contents are the value), which is how
container secrets are usually mounted.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

__all__ = ["env_bool", "env_float", "env_int", "env_list", "env_str"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_name!r}, which cannot be read: {error}"
            ) from error
    return os.environ.get(name)


def env_str(name: str, default: str | None = None, *, required_reason: str | None = None) -> str:
    """Return the variable's value, or ``default``.

    With no default, a missing variable raises ``ImproperlyConfigured`` naming it and,
    when given, ``required_reason``.
    """
    value = _raw(name)
    if value is None or value == "":
        if default is not None:
            return default
        reason = f" ({required_reason})" if required_reason else ""
        raise ImproperlyConfigured(f"The environment variable {name} must be set{reason}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from error
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from error
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]

"""config.env readers, and settings refusing to start without production secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

VAR = "HERALD_TEST_ENV_VALUE"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    monkeypatch.delenv(f"{VAR}_FILE", raising=False)


# --- env_bool ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " True "])
def test_env_bool_true_values(monkeypatch, value):
    monkeypatch.setenv(VAR, value)

    assert env_bool(VAR, default=False) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "off"])
def test_env_bool_false_values(monkeypatch, value):
    monkeypatch.setenv(VAR, value)

    assert env_bool(VAR, default=True) is False


def test_env_bool_missing_gives_the_default():
    assert env_bool(VAR, default=True) is True
    assert env_bool(VAR, default=False) is False


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_env_bool_invalid_names_the_variable(monkeypatch, value):
    monkeypatch.setenv(VAR, value)

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_bool(VAR, default=False)

    assert str(excinfo.value) == f"{VAR} must be true or false, not {value!r}."


# --- env_int / env_float ----------------------------------------------------------------


def test_env_int_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv(VAR, "42")

    assert env_int(VAR, default=7) == 42


@pytest.mark.parametrize("value", [None, ""])
def test_env_int_missing_or_empty_gives_the_default(monkeypatch, value):
    if value is not None:
        monkeypatch.setenv(VAR, value)

    assert env_int(VAR, default=7) == 7


@pytest.mark.parametrize("value", ["4.5", "ten", "1e3"])
def test_env_int_refuses_non_integers(monkeypatch, value):
    monkeypatch.setenv(VAR, value)

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_int(VAR, default=7)

    assert str(excinfo.value) == f"{VAR} must be a whole number, not {value!r}."


def test_env_int_minimum_is_inclusive(monkeypatch):
    monkeypatch.setenv(VAR, "1")
    assert env_int(VAR, default=30, minimum=1) == 1

    monkeypatch.setenv(VAR, "0")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_int(VAR, default=30, minimum=1)

    assert str(excinfo.value) == f"{VAR} must be at least 1, not 0."


def test_env_float_reads_and_checks_the_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "0.25")
    assert env_float(VAR, default=1.0) == 0.25

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_float(VAR, default=1.0, minimum=0.5)
    assert str(excinfo.value) == f"{VAR} must be at least 0.5, not 0.25."

    monkeypatch.setenv(VAR, "fast")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_float(VAR, default=1.0)
    assert str(excinfo.value) == f"{VAR} must be a number, not 'fast'."


# --- env_str / env_list and _FILE -------------------------------------------------------


def test_env_str_missing_required_names_the_variable_and_the_reason():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_str(VAR, required_reason="needed in production")

    assert str(excinfo.value) == (
        f"The environment variable {VAR} must be set (needed in production)."
    )


def test_env_str_empty_counts_as_missing(monkeypatch):
    monkeypatch.setenv(VAR, "")

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_str(VAR)

    assert str(excinfo.value) == f"The environment variable {VAR} must be set."
    assert env_str(VAR, default="fallback") == "fallback"


def test_env_str_reads_the_value(monkeypatch):
    monkeypatch.setenv(VAR, "value")

    assert env_str(VAR) == "value"


def test_file_variant_is_read_and_stripped(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("  from-a-file\n", encoding="utf-8")
    monkeypatch.setenv(VAR, "from-the-environment")
    monkeypatch.setenv(f"{VAR}_FILE", str(secret))

    # The file wins over the plain variable
    assert env_str(VAR) == "from-a-file"


def test_file_variant_works_for_every_reader(monkeypatch, tmp_path):
    path = tmp_path / "value"
    monkeypatch.setenv(f"{VAR}_FILE", str(path))

    path.write_text("12\n", encoding="utf-8")
    assert env_int(VAR, default=0) == 12
    path.write_text("yes\n", encoding="utf-8")
    assert env_bool(VAR, default=False) is True
    path.write_text("a, b,,c\n", encoding="utf-8")
    assert env_list(VAR, default=[]) == ["a", "b", "c"]


def test_unreadable_file_names_the_file_variable(monkeypatch, tmp_path):
    missing = tmp_path / "nope"
    monkeypatch.setenv(f"{VAR}_FILE", str(missing))

    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_str(VAR)

    assert str(excinfo.value).startswith(
        f"{VAR}_FILE points at {str(missing)!r}, which cannot be read:"
    )


def test_env_list_splits_on_commas(monkeypatch):
    assert env_list(VAR, default=["x"]) == ["x"]
    monkeypatch.setenv(VAR, " example.com , api.example.com,")
    assert env_list(VAR, default=[]) == ["example.com", "api.example.com"]
    monkeypatch.setenv(VAR, "")
    assert env_list(VAR, default=["x"]) == []


# --- settings start-up ------------------------------------------------------------------

_SETUP = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()"
)
_SECRETS = ("SECRET_KEY", "HERALD_ENCRYPTION_KEYS", "DEBUG", "ALLOWED_HOSTS")


def _start_django(base_dir, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _SECRETS
        and not any(name.startswith(f"{secret}_FILE") for secret in _SECRETS)
        and name != "DJANGO_SETTINGS_MODULE"
    }
    env.update(extra)
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-c", _SETUP],
        cwd=base_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_settings_refuse_to_start_without_secret_key(settings, tmp_path):
    # Given DEBUG unset and no SECRET_KEY
    result = _start_django(settings.BASE_DIR, HERALD_DATA_DIR=str(tmp_path))

    # Then Django does not start, and the message names SECRET_KEY
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "The environment variable SECRET_KEY must be set" in result.stderr


def test_settings_refuse_to_start_without_encryption_keys(settings, tmp_path):
    result = _start_django(
        settings.BASE_DIR,
        HERALD_DATA_DIR=str(tmp_path),
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="example.com",
    )

    assert result.returncode != 0
    assert "The environment variable HERALD_ENCRYPTION_KEYS must be set" in result.stderr


def test_settings_start_in_debug_without_secrets(settings, tmp_path):
    result = _start_django(settings.BASE_DIR, HERALD_DATA_DIR=str(tmp_path), DEBUG="true")

    assert result.returncode == 0, result.stderr

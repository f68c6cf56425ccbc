"""Tests of `kcolor.smoke.is_smoke_mode`: `KCOLOR_SMOKE` decides, else a set `CI` turns smoke mode on."""

import pytest

from kcolor.smoke import is_smoke_mode


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, False),
        ({"KCOLOR_SMOKE": "1"}, True),
        ({"KCOLOR_SMOKE": "yes"}, True),
        ({"KCOLOR_SMOKE": " TRUE "}, True),
        ({"KCOLOR_SMOKE": "0"}, False),
        ({"KCOLOR_SMOKE": "false", "CI": "true"}, False),  # the explicit setting wins over CI
        ({"KCOLOR_SMOKE": "", "CI": "true"}, False),
        ({"KCOLOR_SMOKE": "1", "CI": "0"}, True),
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"CI": "False"}, False),
        ({"CI": "no"}, False),
        ({"CI": ""}, False),
    ],
)
def test_smoke_mode_follows_the_environment(environ, expected):
    assert is_smoke_mode(environ) is expected


def test_smoke_mode_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("KCOLOR_SMOKE", "1")
    assert is_smoke_mode() is True
    monkeypatch.setenv("KCOLOR_SMOKE", "0")
    assert is_smoke_mode() is False

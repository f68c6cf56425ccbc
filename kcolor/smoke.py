"""Smoke mode: tiny, fast, offline versions of the heavy work, for CI and quick checks.

`KCOLOR_SMOKE=1` turns it on (and `KCOLOR_SMOKE=0` off); it is also on whenever the `CI` environment variable
is set to anything but an empty string, `0` or `false`. In smoke mode the notebooks and the command line use
tiny model widths, the offline `sample` data and a few steps, so that everything runs on a 2-core CPU in
minutes with no network. Full mode is what a student runs on a Colab GPU.
"""

import os

_OFF = ("", "0", "false", "no")


def is_smoke_mode(environ=None):
    """True when `KCOLOR_SMOKE` says so, or when it is unset and `CI` is set."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("KCOLOR_SMOKE")
    if explicit is not None:
        return explicit.strip().lower() not in _OFF
    return environ.get("CI", "").strip().lower() not in _OFF

"""Generator, discriminator and architecture presets.

The names below are imported on first use, so `kcolor.models.presets` (what `kcolor train --help` reads) loads
without Keras.
"""

import importlib

_EXPORTS = {
    "build_discriminator": "kcolor.models.discriminator",
    "build_generator": "kcolor.models.generator",
    "generator_size_multiple": "kcolor.models.generator",
    "PRESETS": "kcolor.models.presets",
    "Preset": "kcolor.models.presets",
    "check_image_size": "kcolor.models.presets",
    "get_preset": "kcolor.models.presets",
}

__all__ = [
    "PRESETS",
    "Preset",
    "build_discriminator",
    "build_generator",
    "check_image_size",
    "generator_size_multiple",
    "get_preset",
]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kcolor.models' has no attribute {name!r}")

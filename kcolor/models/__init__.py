"""Generator, discriminator and architecture presets."""

from kcolor.models.discriminator import build_discriminator
from kcolor.models.generator import build_generator, generator_size_multiple
from kcolor.models.presets import PRESETS, Preset, check_image_size, get_preset

__all__ = [
    "PRESETS",
    "Preset",
    "build_discriminator",
    "build_generator",
    "check_image_size",
    "generator_size_multiple",
    "get_preset",
]

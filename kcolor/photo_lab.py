"""Former home of the full-resolution photo L*a*b* math; it now lives in `kcolor.host_lab`.

Kept so that `from kcolor import photo_lab` and `kcolor.photo_lab.luminance(...)` keep working. New code
imports `kcolor.host_lab`, the one host L*a*b* reference.
"""

from kcolor.host_lab import colorized_rgb, lightness_from_luminance, luminance, normalized_lightness

__all__ = ["colorized_rgb", "lightness_from_luminance", "luminance", "normalized_lightness"]

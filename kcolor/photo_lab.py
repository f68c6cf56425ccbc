"""L*a*b* for whole photos on the host: the photo's lightness in, its colorized RGB out, fast at 12 megapixels.

`kcolor.colorize.colorize_photo` runs the generator on a small copy of a photo and keeps the photo's own
full-resolution lightness. The two conversions at full resolution (uint8 RGB to L*, and L* with the upsampled
a*b* back to uint8 RGB) touch every pixel, and written as generic float math they cost several seconds for a
phone photo on a laptop CPU. Here they use the structure of the problem instead:

- a uint8 channel has 256 values, so sRGB's gamma curve is a 256-entry table;
- the colorized pixel keeps the photo's L*, hence its luminance Y, which is reused instead of recomputed;
- the output is uint8, so the inverse gamma curve is a table over linear values quantised to 16 bits (one
  step is under 0.06 of an output level, so the result is within one level of exact rounding).

The formulas are those of `kcolor.color` (scikit-image's sRGB, D65, 2 degree observer), in float32 NumPy.
"""

import numpy as np

from kcolor.color import D65_WHITE, L_SCALE, RGB_FROM_XYZ, XYZ_FROM_RGB

_DELTA = 6.0 / 29.0
_EPSILON = _DELTA**3
_GAMMA_TABLE_SIZE = 65536


def _srgb_to_linear(values):
    return np.where(values > 0.04045, ((values + 0.055) / 1.055) ** 2.4, values / 12.92)


_LINEAR_FROM_BYTE = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)
_LUMINANCE_FROM_BYTE = [(weight * _LINEAR_FROM_BYTE).astype(np.float32) for weight in XYZ_FROM_RGB[1]]
_linear = np.linspace(0.0, 1.0, _GAMMA_TABLE_SIZE)
_BYTE_FROM_LINEAR = np.round(
    255.0 * np.where(_linear > 0.0031308, 1.055 * _linear ** (1 / 2.4) - 0.055, 12.92 * _linear)
).astype(np.uint8)
del _linear


def luminance(image):
    """The relative luminance Y (D65 white = 1) of a uint8 photo, `(H, W)` float32.

    Args:
        image: uint8 `(H, W)`, `(H, W, 1)` or `(H, W, 3)` sRGB.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"luminance takes uint8 photos, got {image.dtype}.")
    if image.ndim == 3 and image.shape[-1] == 3:
        luminance_y = _LUMINANCE_FROM_BYTE[0][image[..., 0]]
        luminance_y += _LUMINANCE_FROM_BYTE[1][image[..., 1]]
        luminance_y += _LUMINANCE_FROM_BYTE[2][image[..., 2]]
        return luminance_y
    return _LINEAR_FROM_BYTE[image.reshape(image.shape[:2])]


def _f(t):
    """CIE's f: the cube root, with a linear segment near 0 (float32 in, float32 out)."""
    result = np.cbrt(t)
    small = t <= _EPSILON
    if small.any():
        result[small] = t[small] / np.float32(3 * _DELTA**2) + np.float32(4.0 / 29.0)
    return result


def _f_inverse(f):
    """The inverse of `_f`, clipped at 0 (negative X, Y, Z are no color): float32, computed in place."""
    result = f * f
    result *= f
    small = f <= _DELTA
    if small.any():
        result[small] = np.maximum(np.float32(3 * _DELTA**2) * (f[small] - np.float32(4.0 / 29.0)), 0.0)
    return result


def lightness_from_luminance(luminance_y):
    """L* in [0, 100] of luminance Y (float32 array of any shape)."""
    lightness = _f(np.asarray(luminance_y, np.float32))
    lightness *= np.float32(116.0)
    lightness -= np.float32(16.0)
    return lightness


def normalized_lightness(image):
    """The generator's input for a whole uint8 photo: `L* / 50 - 1`, `(H, W)` float32 in [-1, 1]."""
    return lightness_from_luminance(luminance(image)) / np.float32(L_SCALE) - np.float32(1.0)


def colorized_rgb(luminance_y, ab):
    """uint8 RGB `(H, W, 3)` of the photo's own luminance with the colors `ab`.

    Args:
        luminance_y: `(H, W)` float32 relative luminance of the photo (`luminance`).
        ab: `(H, W, 2)` a*, b* (not normalised), e.g. the generator's output upsampled to full size.

    Returns:
        uint8 RGB; out-of-gamut colors are clipped per channel, as `kcolor.color.lab_to_rgb` does.
    """
    y = np.asarray(luminance_y, np.float32)
    fy = _f(y)
    ab = np.asarray(ab, np.float32)
    x = _f_inverse(fy + ab[..., 0] * np.float32(1 / 500.0))
    x *= np.float32(D65_WHITE[0])
    z = _f_inverse(fy - ab[..., 1] * np.float32(1 / 200.0))
    z *= np.float32(D65_WHITE[2])
    del fy
    matrix = RGB_FROM_XYZ.astype(np.float32) * np.float32(_GAMMA_TABLE_SIZE - 1)  # linear -> table index
    rgb = np.empty(y.shape + (3,), np.uint8)
    linear = np.empty_like(y)
    for channel in range(3):
        np.multiply(x, matrix[channel, 0], out=linear)
        linear += matrix[channel, 1] * y
        linear += matrix[channel, 2] * z
        np.clip(linear, 0.0, np.float32(_GAMMA_TABLE_SIZE - 1), out=linear)
        linear += np.float32(0.5)
        rgb[..., channel] = _BYTE_FROM_LINEAR[linear.astype(np.uint16)]
    return rgb

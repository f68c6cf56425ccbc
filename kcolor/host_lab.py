"""sRGB <-> CIE L*a*b* on the host, in NumPy float32: the one host reference of kcolor.

`kcolor.color` converts colors in `keras.ops` on the device, inside the compiled train step. Everything that
runs on the host uses this module instead, with the same constants (`kcolor.lab_constants`) and formulas:

- `lab_from_rgb8` and `rgb8_from_lab` convert uint8 RGB batches to float32 L*a*b* and back. The evaluation's
  metrics, histograms and gray reference use them (float32, so thousands of images fit in memory batch by
  batch; no Keras, so `kcolor.evaluation` stays light).
- `luminance`, `lightness_from_luminance`, `normalized_lightness` and `colorized_rgb` are the full-resolution
  steps of `kcolor.colorize.colorize_photo`, specialised to be fast at 12 megapixels: a uint8 channel has 256
  values, so sRGB's gamma curve is a 256-entry table; the colorized pixel keeps the photo's L*, hence its
  luminance Y, which is reused instead of recomputed; and the output is uint8, so the inverse gamma curve is a
  table over linear values quantised to 16 bits (one step is under 0.06 of an output level, so the result is
  within one level of `rgb8_from_lab`).

The names differ from `kcolor.color.rgb_to_lab` / `lab_to_rgb` on purpose: those take and return tensors on
the device, these NumPy arrays of uint8 RGB. How closely the two references, and scikit-image, agree is
tested in tests/test_host_lab.py.

Example:

```python
images = np.random.randint(0, 256, (4, 32, 32, 3), dtype=np.uint8)
lab = lab_from_rgb8(images)            # float32, L* in [0, 100]
assert (rgb8_from_lab(lab) == images).all()
```
"""

import numpy as np

from kcolor.lab_constants import (
    CIE_DELTA,
    CIE_EPSILON,
    D65_WHITE,
    L_SCALE,
    RGB_FROM_XYZ,
    SRGB_ENCODED_THRESHOLD,
    SRGB_LINEAR_THRESHOLD,
    XYZ_FROM_RGB,
)

_GAMMA_TABLE_SIZE = 65536


def _srgb_to_linear(values):
    return np.where(values > SRGB_LINEAR_THRESHOLD, ((values + 0.055) / 1.055) ** 2.4, values / 12.92)


_LINEAR_FROM_BYTE = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)
_LUMINANCE_FROM_BYTE = [(weight * _LINEAR_FROM_BYTE).astype(np.float32) for weight in XYZ_FROM_RGB[1]]
_linear = np.linspace(0.0, 1.0, _GAMMA_TABLE_SIZE)
_BYTE_FROM_LINEAR = np.round(
    255.0 * np.where(_linear > SRGB_ENCODED_THRESHOLD, 1.055 * _linear ** (1 / 2.4) - 0.055, 12.92 * _linear)
).astype(np.uint8)
del _linear
# Linear RGB rows -> XYZ relative to the white point, and back (the white folded in as `kcolor.color` does).
_WHITE_RELATIVE_XYZ_FROM_RGB = (XYZ_FROM_RGB.T / D65_WHITE[None, :]).astype(np.float32)
_RGB_FROM_WHITE_RELATIVE_XYZ = (D65_WHITE[:, None] * RGB_FROM_XYZ.T).astype(np.float32)


def _check_channels(array, name):
    if array.ndim == 0 or array.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 channels in the last axis (NHWC), got shape {array.shape}.")


def _f(t):
    """CIE's f: the cube root, with a linear segment near 0 (float32 in, float32 out)."""
    result = np.cbrt(t)
    small = t <= CIE_EPSILON
    if small.any():
        result[small] = t[small] / np.float32(3 * CIE_DELTA**2) + np.float32(4.0 / 29.0)
    return result


def _f_inverse(f):
    """The inverse of `_f`, clipped at 0 (negative X, Y, Z are no color): float32, computed in place."""
    result = f * f
    result *= f
    small = f <= CIE_DELTA
    if small.any():
        result[small] = np.maximum(np.float32(3 * CIE_DELTA**2) * (f[small] - np.float32(4.0 / 29.0)), 0.0)
    return result


def lab_from_rgb8(images):
    """Converts uint8 sRGB images to float32 CIE L*a*b* (D65), on the host.

    The host twin of `kcolor.color.rgb_to_lab`: same constants and formulas, in NumPy float32.

    Args:
        images: uint8 RGB array with 3 channels last and any leading shape, typically a batch `(N, H, W, 3)`.

    Returns:
        float32 array of the same shape: L* in [0, 100], a* and b* roughly in [-110, 110].

    Raises:
        ValueError: If `images` is not uint8 or has no 3-channel last axis.

    Example:

    ```python
    lab_from_rgb8(np.array([[255, 255, 255]], np.uint8))   # about [[100., 0., 0.]] (D65 white)
    ```
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            f"lab_from_rgb8 takes uint8 images (values 0-255), got {images.dtype}; for float images in [0, 1] "
            "use kcolor.color.rgb_to_lab or np.clip(np.round(images * 255), 0, 255).astype(np.uint8)."
        )
    _check_channels(images, "images")
    linear = _LINEAR_FROM_BYTE[images.reshape(-1, 3)]
    f = _f(linear @ _WHITE_RELATIVE_XYZ_FROM_RGB)
    del linear
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    lab = np.empty_like(f)
    np.multiply(fy, np.float32(116.0), out=lab[:, 0])
    lab[:, 0] -= np.float32(16.0)
    np.subtract(fx, fy, out=lab[:, 1])
    lab[:, 1] *= np.float32(500.0)
    np.subtract(fy, fz, out=lab[:, 2])
    lab[:, 2] *= np.float32(200.0)
    return lab.reshape(images.shape)


def rgb8_from_lab(lab):
    """Converts CIE L*a*b* (D65) to uint8 sRGB, rounding to the nearest level and clipping out-of-gamut colors.

    The host twin of `kcolor.color.lab_to_rgb` followed by `round(rgb * 255)`: colors outside the sRGB gamut
    are clipped channel-wise, as scikit-image's `lab2rgb` does, and the result is never NaN.

    Args:
        lab: float array with L*, a*, b* in the last axis and any leading shape.

    Returns:
        uint8 RGB array of the same shape.

    Raises:
        ValueError: If `lab` has no 3-channel last axis.

    Example:

    ```python
    gray = rgb8_from_lab(np.array([[50.0, 0.0, 0.0]]))   # [[119, 119, 119]]
    ```
    """
    lab = np.asarray(lab, np.float32)
    _check_channels(lab, "lab")
    flat = lab.reshape(-1, 3)
    f = np.empty_like(flat)
    np.add(flat[:, 0], np.float32(16.0), out=f[:, 1])
    f[:, 1] *= np.float32(1 / 116.0)
    np.multiply(flat[:, 1], np.float32(1 / 500.0), out=f[:, 0])
    f[:, 0] += f[:, 1]
    np.multiply(flat[:, 2], np.float32(-1 / 200.0), out=f[:, 2])
    f[:, 2] += f[:, 1]
    linear = _f_inverse(f) @ _RGB_FROM_WHITE_RELATIVE_XYZ
    np.clip(linear, 0.0, 1.0, out=linear)
    encoded = np.where(
        linear > SRGB_ENCODED_THRESHOLD,
        np.float32(1.055) * np.power(np.maximum(linear, np.float32(SRGB_ENCODED_THRESHOLD)), np.float32(1 / 2.4))
        - np.float32(0.055),
        linear * np.float32(12.92),
    )
    encoded *= np.float32(255.0)
    np.round(encoded, out=encoded)
    return np.clip(encoded, 0, 255).astype(np.uint8).reshape(lab.shape)


def luminance(image):
    """The relative luminance Y (D65 white = 1) of a uint8 photo, fast at full resolution.

    Args:
        image: uint8 sRGB photo, `(H, W)`, `(H, W, 1)` (gray) or `(H, W, 3)`.

    Returns:
        `(H, W)` float32 luminance in [0, 1].

    Raises:
        ValueError: If `image` is not uint8.

    Example:

    ```python
    luminance(np.full((2, 2, 3), 255, np.uint8))   # all 1.0
    ```
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


def lightness_from_luminance(luminance_y):
    """L* of luminance Y.

    Args:
        luminance_y: float array of any shape, relative luminance (D65 white = 1).

    Returns:
        float32 L* in [0, 100], same shape.

    Example:

    ```python
    lightness_from_luminance(np.float32([0.0, 1.0]))   # [0., 100.]
    ```
    """
    values = np.asarray(luminance_y, np.float32)
    lightness = _f(values.reshape(-1))
    lightness *= np.float32(116.0)
    lightness -= np.float32(16.0)
    return lightness.reshape(values.shape)


def normalized_lightness(image):
    """The generator's input for a whole uint8 photo: `L* / 50 - 1`.

    Args:
        image: uint8 sRGB photo, as for `luminance`.

    Returns:
        `(H, W)` float32 in [-1, 1].

    Example:

    ```python
    normalized_lightness(np.zeros((2, 2, 3), np.uint8))   # all -1.0
    ```
    """
    return lightness_from_luminance(luminance(image)) / np.float32(L_SCALE) - np.float32(1.0)


def colorized_rgb(luminance_y, ab):
    """uint8 RGB of a photo's own luminance with new colors `ab`, fast at full resolution.

    Equal to `rgb8_from_lab` of the photo's L* and `ab` within one level (the 16-bit inverse gamma table).

    Args:
        luminance_y: `(H, W)` float32 relative luminance of the photo (`luminance`).
        ab: `(H, W, 2)` a*, b* (not normalised), e.g. the generator's output upsampled to full size.

    Returns:
        `(H, W, 3)` uint8 RGB; out-of-gamut colors are clipped per channel, as `kcolor.color.lab_to_rgb` does.

    Example:

    ```python
    rgb = colorized_rgb(luminance(photo), ab)   # photo: (H, W, 3) uint8, ab: (H, W, 2) float32
    ```
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

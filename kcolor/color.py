"""sRGB <-> CIE L*a*b* conversion in `keras.ops`, and the model's normalisation.

Colorization models in kcolor never see RGB: the generator receives the lightness channel L* and predicts
the two color channels a* and b*. The conversions here are written with `keras.ops` only, so they run on the
accelerator inside the compiled train step on every backend (the data pipeline ships uint8 RGB and nothing
else). They follow scikit-image's `rgb2lab` / `lab2rgb` exactly: sRGB with its gamma curve, the sRGB
primaries, and the D65 white point (2 degree observer).

## Normalisation (the one place it is defined)

As in the paper's code, the network works on values scaled to about [-1, 1]:

| channel | range       | network value      | inverse              |
|---------|-------------|--------------------|----------------------|
| L*      | [0, 100]    | `L / 50 - 1`       | `(l + 1) * 50`       |
| a*, b*  | about ±110  | `a / 110`, `b / 110` | `a * 110`, `b * 110` |

The generator ends in `tanh`, so it can only produce normalised ab in [-1, 1], i.e. a*, b* in [-110, 110].
Some of those colors are outside the sRGB gamut; `lab_to_rgb` clips them to a valid image (never NaN).

Example:

```python
images = np.random.randint(0, 256, (4, 32, 32, 3), dtype="uint8")
lightness, ab = rgb_to_model_inputs(images)      # (4, 32, 32, 1), (4, 32, 32, 2), both in ~[-1, 1]
rgb = model_outputs_to_rgb(lightness, ab)        # float32 in [0, 1]
```
"""

import numpy as np
from keras import ops
from keras.backend import standardize_dtype

from kcolor.lab_constants import AB_SCALE, D65_WHITE, L_SCALE, RGB_FROM_XYZ, XYZ_FROM_RGB  # noqa: F401 (public here)
from kcolor.lab_constants import CIE_DELTA as _DELTA
from kcolor.lab_constants import CIE_EPSILON as _EPSILON


def _to_float_rgb(images):
    """Returns `images` as float32 in [0, 1]; uint8 input is divided by 255."""
    images = ops.convert_to_tensor(images)
    if standardize_dtype(images.dtype) == "uint8":
        return ops.cast(images, "float32") / 255.0
    return ops.cast(images, "float32")


def _check_channels(images, channels, name):
    if images.shape[-1] is not None and images.shape[-1] != channels:
        raise ValueError(
            f"{name} must have {channels} channels in the last axis (NHWC), got shape {tuple(images.shape)}."
        )


def rgb_to_lab(images):
    """Converts sRGB images to CIE L*a*b* (D65).

    Args:
        images: RGB tensor with 3 channels last, uint8 in [0, 255] or float in [0, 1]; any leading shape
            (typically a batch, NHWC).

    Returns:
        float32 tensor of the same shape: L* in [0, 100], a* and b* roughly in [-128, 127].
    """
    rgb = _to_float_rgb(images)
    _check_channels(rgb, 3, "images")
    linear = ops.where(
        rgb > 0.04045,
        ops.power((ops.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    xyz = ops.matmul(linear, ops.convert_to_tensor((XYZ_FROM_RGB.T / D65_WHITE[None, :]).astype("float32")))
    f = ops.where(
        xyz > _EPSILON,
        ops.power(ops.maximum(xyz, _EPSILON), 1.0 / 3.0),
        xyz / (3.0 * _DELTA**2) + 4.0 / 29.0,
    )
    fx, fy, fz = f[..., 0:1], f[..., 1:2], f[..., 2:3]
    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return ops.concatenate([lightness, a, b], axis=-1)


def lab_to_rgb(lab):
    """Converts CIE L*a*b* (D65) to sRGB, clipping out-of-gamut colors.

    Args:
        lab: float tensor with L*, a*, b* in the last axis.

    Returns:
        float32 RGB tensor in [0, 1] of the same shape. Colors outside the sRGB gamut (which a generator can
        produce) are clipped channel-wise, as scikit-image's `lab2rgb` does; the result is never NaN.
    """
    lab = ops.cast(ops.convert_to_tensor(lab), "float32")
    _check_channels(lab, 3, "lab")
    lightness, a, b = lab[..., 0:1], lab[..., 1:2], lab[..., 2:3]
    fy = (lightness + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    f = ops.concatenate([fx, fy, fz], axis=-1)
    xyz = ops.where(f > _DELTA, f * f * f, 3.0 * _DELTA**2 * (f - 4.0 / 29.0))
    xyz = ops.maximum(xyz, 0.0)  # negative XYZ is not a color; scikit-image clips it the same way
    rgb_from_scaled_xyz = (D65_WHITE[:, None] * RGB_FROM_XYZ.T).astype("float32")
    linear = ops.clip(ops.matmul(xyz, ops.convert_to_tensor(rgb_from_scaled_xyz)), 0.0, 1.0)
    rgb = ops.where(
        linear > 0.0031308,
        1.055 * ops.power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        linear * 12.92,
    )
    return ops.clip(rgb, 0.0, 1.0)


def split_lab(lab):
    """Splits a Lab tensor into its lightness `(..., 1)` and color `(..., 2)` parts."""
    return lab[..., 0:1], lab[..., 1:3]


def merge_lab(lightness, ab):
    """Joins lightness `(..., 1)` and color `(..., 2)` into one Lab tensor `(..., 3)`."""
    return ops.concatenate([ops.cast(lightness, "float32"), ops.cast(ab, "float32")], axis=-1)


def normalize_lightness(lightness):
    """Maps L* in [0, 100] to the network's [-1, 1]."""
    return lightness / L_SCALE - 1.0


def denormalize_lightness(lightness):
    """Maps the network's [-1, 1] back to L* in [0, 100]."""
    return (lightness + 1.0) * L_SCALE


def normalize_ab(ab):
    """Maps a*, b* (about ±110) to the network's [-1, 1]."""
    return ab / AB_SCALE


def denormalize_ab(ab):
    """Maps the network's [-1, 1] back to a*, b*."""
    return ab * AB_SCALE


def rgb_to_model_inputs(images):
    """Converts RGB images to the normalised lightness (generator input) and ab (target).

    Args:
        images: uint8 or [0, 1] float RGB, shape `(..., 3)`.

    Returns:
        A tuple `(lightness, ab)` of float32 tensors with shapes `(..., 1)` and `(..., 2)`, normalised as
        described in the module docstring.
    """
    lightness, ab = split_lab(rgb_to_lab(images))
    return normalize_lightness(lightness), normalize_ab(ab)


def model_outputs_to_rgb(lightness, ab):
    """Inverse of `rgb_to_model_inputs`: normalised lightness and ab to float32 RGB in [0, 1]."""
    return lab_to_rgb(merge_lab(denormalize_lightness(ops.cast(lightness, "float32")),
                                denormalize_ab(ops.cast(ab, "float32"))))


def gray_to_model_input(images):
    """Normalised lightness of grayscale or RGB images.

    A gray pixel value g is the sRGB color (g, g, g), so its L* is that of the neutral color; an RGB image is
    reduced to its own L*.

    Args:
        images: uint8 or [0, 1] float, shape `(..., H, W)`, `(..., H, W, 1)` or `(..., H, W, 3)`. A 2-D or 3-D
            input without a channel axis is taken as gray.

    Returns:
        float32 tensor `(..., H, W, 1)` in [-1, 1].
    """
    images = ops.convert_to_tensor(images)
    if images.shape[-1] not in (1, 3):
        images = ops.expand_dims(images, -1)
    if images.shape[-1] == 1:
        images = ops.repeat(images, 3, axis=-1)
    return rgb_to_model_inputs(images)[0]

"""The host L*a*b* reference (`kcolor.host_lab`) against scikit-image and against the device reference.

The tolerances are derived from float32 arithmetic rather than fitted to what the code happens to give:

- float32 rounds every operation to within u = 2**-24 of the exact result (relative). Each of the host's CIE
  f values (`_f(X / Xn)` and so on) goes through the sRGB table (1 rounding), a dot product of three positive
  terms (3) and a cube root, which divides the relative error it receives by 3 and adds one rounding: under
  4u relative, on f <= 1. L*, a*, b* are 116 fy - 16, 500 (fx - fy) and 200 (fy - fz), so their float32 error
  is below 4u times 116, 500 * 2 and 200 * 2 (`F_WEIGHTS`; the subtraction of 16 adds under 100u to L*, well
  inside the bound).
- scikit-image rounds two constants of f's linear segment (7.787 for 1 / (3 (6/29)^2), 0.008856 for
  (6/29)^3), which moves each f value by under 4e-7 near the join: under 4e-7 times `F_WEIGHTS` in L*a*b*.
- The device reference (`kcolor.color`, float32 `keras.ops`) raises (x + 0.055) / 1.055 to the power 2.4
  instead of reading a table, which multiplies that base's relative error (2u) by 2.4, and takes the cube root
  as a power: under 5u relative on its f values, so host and device differ by under (4 + 5)u times
  `F_WEIGHTS`.
"""

import warnings

import numpy as np
import pytest
from skimage import color as skcolor

from kcolor import host_lab, lab_constants

UNIT_ROUNDOFF = 2.0**-24
F_WEIGHTS = np.array([116.0, 1000.0, 400.0])  # how much L*, a*, b* move per unit of error in each f value
HOST_FLOAT32_ERROR = F_WEIGHTS * 4 * UNIT_ROUNDOFF
SKIMAGE_CONSTANTS_ERROR = F_WEIGHTS * 4e-7
DEVICE_FLOAT32_ERROR = F_WEIGHTS * 5 * UNIT_ROUNDOFF


def color_grid(step=5):
    """Every `step`-th level of each channel (0 and 255 included), plus every level of the gray axis and of each
    primary alone, where sRGB's linear segment and f's linear segment live: `(1, K, 1, 3)` uint8."""
    levels = np.arange(0, 256, step)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    ramp = np.arange(256)[:, None]
    zero = np.zeros_like(ramp)
    lines = [np.repeat(ramp, 3, axis=1), np.hstack([ramp, zero, zero]), np.hstack([zero, ramp, zero]),
             np.hstack([zero, zero, ramp])]  # fmt: skip
    return np.concatenate([grid, *lines]).astype(np.uint8).reshape(1, -1, 1, 3)


def random_images():
    return np.random.default_rng(0).integers(0, 256, (4, 32, 48, 3), dtype=np.uint8)


def max_channel_error(lab, reference):
    return np.abs(np.asarray(lab, np.float64) - reference).reshape(-1, 3).max(axis=0)


@pytest.mark.parametrize("images", [color_grid(), random_images()], ids=["color grid", "random images"])
def test_lab_from_rgb8_matches_scikit_image(images):
    lab = host_lab.lab_from_rgb8(images)
    assert lab.dtype == np.float32 and lab.shape == images.shape
    reference = skcolor.rgb2lab(images / 255.0)  # float64: exact up to scikit-image's rounded constants
    error = max_channel_error(lab, reference)
    assert (error <= HOST_FLOAT32_ERROR + SKIMAGE_CONSTANTS_ERROR).all(), error


@pytest.mark.parametrize("images", [color_grid(), random_images()], ids=["color grid", "random images"])
def test_rgb8_from_lab_inverts_lab_from_rgb8_and_matches_scikit_image(images):
    lab = host_lab.lab_from_rgb8(images)
    rgb = host_lab.rgb8_from_lab(lab)
    assert rgb.dtype == np.uint8 and rgb.shape == images.shape
    np.testing.assert_array_equal(rgb, images)
    scaled = skcolor.lab2rgb(lab.astype(np.float64)) * 255
    different = rgb != np.round(scaled)
    # Only a tie can round either way: scikit-image's rounded 7.787 moves dark linear RGB by under
    # 5 (the largest row of RGB_FROM_XYZ, in absolute values) x 4.8e-6 (relative) x 0.0089 (the largest linear
    # XYZ there) ~ 2e-7, which sRGB's curve (slope under 13) and 255 make under 7e-4 of a level; float32 adds
    # under 255 x 16u ~ 2.5e-4.
    distance_to_tie = np.abs(scaled - np.floor(scaled) - 0.5)
    assert (distance_to_tie[different] < 1e-3).all()


def test_gray_axis_is_neutral_and_white_is_d65():
    gray = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    lab = host_lab.lab_from_rgb8(gray)
    # XYZ_FROM_RGB's rows sum to D65 only to 6 digits, so neutral colors have |a*|, |b*| of a few thousandths.
    assert np.abs(lab[:, 1:]).max() < 0.01
    np.testing.assert_allclose(lab[[0, 255], 0], [0.0, 100.0], atol=1e-4)
    assert (np.diff(lab[:, 0]) > 0).all()


def test_out_of_gamut_lab_is_clipped_like_the_device():
    from keras import ops

    from kcolor.color import lab_to_rgb

    lab = np.random.default_rng(1).uniform([-20, -250, -250], [130, 250, 250], (1, 60, 60, 3)).astype(np.float32)
    rgb = host_lab.rgb8_from_lab(lab)
    scaled = ops.convert_to_numpy(lab_to_rgb(lab)) * 255
    different = rgb != np.round(scaled)
    assert np.abs(rgb.astype(int) - np.round(scaled)).max() <= 1
    assert (np.abs(scaled - np.floor(scaled) - 0.5)[different] < 255 * 16 * UNIT_ROUNDOFF).all()


@pytest.mark.parametrize("images", [color_grid(), random_images()], ids=["color grid", "random images"])
def test_host_and_device_references_agree(images):
    from keras import ops

    from kcolor.color import rgb_to_lab

    device = ops.convert_to_numpy(rgb_to_lab(images))
    error = max_channel_error(host_lab.lab_from_rgb8(images), device)
    assert (error <= HOST_FLOAT32_ERROR + DEVICE_FLOAT32_ERROR).all(), error


def test_host_and_device_share_their_constants():
    from kcolor import color

    for name in ("XYZ_FROM_RGB", "RGB_FROM_XYZ", "D65_WHITE", "L_SCALE", "AB_SCALE"):
        np.testing.assert_array_equal(getattr(color, name), getattr(lab_constants, name), err_msg=name)
    assert color._DELTA == lab_constants.CIE_DELTA and color._EPSILON == lab_constants.CIE_EPSILON


def test_clear_errors_and_any_leading_shape():
    with pytest.raises(ValueError, match="uint8"):
        host_lab.lab_from_rgb8(np.zeros((1, 2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="3 channels"):
        host_lab.lab_from_rgb8(np.zeros((1, 2, 2, 4), np.uint8))
    with pytest.raises(ValueError, match="3 channels"):
        host_lab.rgb8_from_lab(np.zeros((2, 2)))
    single = np.array([200, 30, 30], np.uint8)
    np.testing.assert_array_equal(host_lab.lab_from_rgb8(single), host_lab.lab_from_rgb8(single[None, None])[0, 0])
    assert host_lab.rgb8_from_lab(host_lab.lab_from_rgb8(single)).tolist() == [200, 30, 30]


def test_evaluation_gray_reference_matches_scikit_image_except_at_ties(photos):
    from kcolor.evaluation import gray_reference

    lab = skcolor.rgb2lab(photos / 255.0)
    lab[..., 1:] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = skcolor.lab2rgb(lab) * 255
    gray = gray_reference(photos)
    different = gray != np.round(scaled)
    assert (np.abs(scaled - np.floor(scaled) - 0.5)[different] < 1e-3).all()


def test_photo_lab_still_re_exports_the_photo_functions():
    from kcolor import photo_lab

    for name in ("luminance", "lightness_from_luminance", "normalized_lightness", "colorized_rgb"):
        assert getattr(photo_lab, name) is getattr(host_lab, name)

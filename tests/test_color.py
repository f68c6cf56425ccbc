import numpy as np
import pytest
from keras import ops
from skimage import color as skcolor

from kcolor import color

EDGE_COLORS = np.array(
    [
        [0, 0, 0],
        [255, 255, 255],
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 0],
        [0, 255, 255],
        [255, 0, 255],
        [128, 128, 128],
        [128, 128, 129],
        [1, 1, 1],
        [254, 255, 255],
        [10, 10, 12],
    ],
    dtype=np.uint8,
)


def _test_colors():
    random = np.random.default_rng(0).integers(0, 256, (2000, 3), dtype=np.uint8)
    # NHWC batch: (2, H, W, 3)
    return np.concatenate([random, EDGE_COLORS, EDGE_COLORS[:3]]).reshape(2, -1, 12, 3)


def test_rgb_to_lab_matches_scikit_image():
    images = _test_colors()
    lab = ops.convert_to_numpy(color.rgb_to_lab(images))
    assert lab.dtype == np.float32
    np.testing.assert_array_less(np.abs(lab - skcolor.rgb2lab(images)).max(), 0.05)


def test_float_input_matches_uint8():
    images = _test_colors()
    from_uint8 = ops.convert_to_numpy(color.rgb_to_lab(images))
    from_float = ops.convert_to_numpy(color.rgb_to_lab(images.astype(np.float32) / 255.0))
    np.testing.assert_allclose(from_uint8, from_float, atol=1e-4)


def test_lab_to_rgb_matches_scikit_image_and_round_trips():
    images = _test_colors()
    reference_lab = skcolor.rgb2lab(images)
    rgb = ops.convert_to_numpy(color.lab_to_rgb(reference_lab.astype(np.float32)))
    np.testing.assert_allclose(rgb, skcolor.lab2rgb(reference_lab), atol=1e-4)
    round_trip = ops.convert_to_numpy(color.lab_to_rgb(color.rgb_to_lab(images)))
    assert np.abs(round_trip - images / 255.0).max() <= 1 / 255


def test_edge_colors_have_expected_lab():
    lab = ops.convert_to_numpy(color.rgb_to_lab(EDGE_COLORS[None, None, :2]))[0, 0]
    np.testing.assert_allclose(lab[0], [0, 0, 0], atol=1e-3)  # black
    np.testing.assert_allclose(lab[1], [100, 0, 0], atol=1e-2)  # white is D65 white: a = b = 0


def test_out_of_gamut_lab_is_clipped_never_nan():
    rng = np.random.default_rng(1)
    lab = rng.uniform([-20, -250, -250], [130, 250, 250], (1, 50, 50, 3)).astype(np.float32)
    rgb = ops.convert_to_numpy(color.lab_to_rgb(lab))
    assert np.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    # Every output of a tanh generator (normalised ab in [-1, 1]) is a valid image too.
    lightness = rng.uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32)
    ab = np.sign(rng.uniform(-1, 1, (1, 8, 8, 2))).astype(np.float32)
    rgb = ops.convert_to_numpy(color.model_outputs_to_rgb(lightness, ab))
    assert np.isfinite(rgb).all() and rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_normalisation_ranges_and_inverse():
    images = _test_colors()
    lightness, ab = (ops.convert_to_numpy(t) for t in color.rgb_to_model_inputs(images))
    assert lightness.shape == images.shape[:-1] + (1,) and ab.shape == images.shape[:-1] + (2,)
    assert lightness.min() >= -1.0001 and lightness.max() <= 1.0001
    assert np.abs(ab).max() <= 128 / 110
    rgb = ops.convert_to_numpy(color.model_outputs_to_rgb(lightness, ab))
    assert np.abs(rgb - images / 255.0).max() <= 1 / 255
    lab = skcolor.rgb2lab(images)
    np.testing.assert_allclose(lightness[..., 0], lab[..., 0] / 50 - 1, atol=1e-3)
    np.testing.assert_allclose(ab, lab[..., 1:] / 110, atol=1e-3)


def test_split_and_merge_lab():
    lab = np.random.default_rng(2).normal(size=(2, 4, 4, 3)).astype(np.float32)
    lightness, ab = color.split_lab(lab)
    np.testing.assert_array_equal(ops.convert_to_numpy(color.merge_lab(lightness, ab)), lab)


@pytest.mark.parametrize("shape", [(2, 8, 8), (2, 8, 8, 1)])
def test_gray_input_gives_the_lightness_of_the_neutral_color(shape):
    gray = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    lightness = ops.convert_to_numpy(color.gray_to_model_input(gray))
    rgb = np.repeat(gray.reshape(2, 8, 8, 1), 3, axis=-1)
    expected = skcolor.rgb2lab(rgb)[..., :1] / 50 - 1
    np.testing.assert_allclose(lightness, expected, atol=1e-3)


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_lab(np.zeros((1, 4, 4, 4), np.uint8))

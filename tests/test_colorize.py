import numpy as np
import pytest
from skimage import color as skcolor

from kcolor.colorize import colorize, colorize_photo, render_shape
from kcolor.models import build_generator


@pytest.fixture(scope="module")
def generator():
    return build_generator("nazeri-cifar", width_multiplier=0.125)


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 32, 32, 1), (3, 32, 32, 3)])
def test_colorize_batches_keep_lightness(generator, shape):
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    colorized = colorize(generator, images, batch_size=2)
    assert colorized.shape == (3, 32, 32, 3) and colorized.dtype == np.uint8
    gray = images if images.ndim == 3 else images[..., 0] if shape[-1] == 1 else None
    if gray is not None:  # lightness of the output is the gray input's (up to gamut clipping and rounding)
        expected = skcolor.rgb2lab(np.repeat(gray[..., None], 3, -1))[..., 0]
        assert np.median(np.abs(skcolor.rgb2lab(colorized)[..., 0] - expected)) < 1.0


def test_colorize_rejects_sizes_the_generator_cannot_take(generator):
    with pytest.raises(ValueError, match="multiples of 16"):
        colorize(generator, np.zeros((1, 30, 30, 3), np.uint8))


def test_render_shape_keeps_aspect_and_multiple():
    assert render_shape(3000, 4000, 256, 16) == (192, 256)
    assert render_shape(10, 10, 256, 16) == (16, 16)  # never above the photo's size, but at least one multiple
    assert render_shape(224, 224, 224, 64) == (192, 192)  # 224 would round up to 256: round down instead
    assert render_shape(224, 224, 128, 64) == (128, 128)
    assert render_shape(4000, 100, 64, 16) == (64, 16)


@pytest.mark.parametrize("shape", [(37, 53, 3), (41, 29), (20, 70, 1)])
def test_colorize_photo_keeps_size_and_detail(generator, shape):
    photo = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    colorized = colorize_photo(generator, photo, render_size=32)
    assert colorized.shape == shape[:2] + (3,) and colorized.dtype == np.uint8
    # Full-resolution detail: the output's lightness follows the photo's pixel by pixel.
    rgb = photo if photo.ndim == 3 and photo.shape[-1] == 3 else np.repeat(photo.reshape(shape[:2] + (1,)), 3, -1)
    photo_lightness = skcolor.rgb2lab(rgb)[..., 0]
    output_lightness = skcolor.rgb2lab(colorized)[..., 0]
    assert np.corrcoef(photo_lightness.ravel(), output_lightness.ravel())[0, 1] > 0.95


def test_colorize_photo_rejects_bad_input(generator):
    with pytest.raises(ValueError):
        colorize_photo(generator, np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="render_size"):
        colorize_photo(generator, np.zeros((4, 4, 3), np.uint8), render_size=0)


def test_averaging_the_flips_makes_the_colors_follow_the_content_not_the_frame(generator):
    from kcolor.colorize import predict_ab

    lightness = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    plain = predict_ab(generator, lightness)
    averaged = predict_ab(generator, lightness, average_flips=True)
    assert averaged.shape == plain.shape == (2, 32, 32, 2) and averaged.dtype == np.float32
    # The average over the four flips, each mirrored back, is itself mirrored when the input is: the colors of a
    # flipped photo are the flipped colors (float32 sums of four terms in another order: a few ulps).
    for rows, columns in ((1, -1), (-1, 1), (-1, -1)):
        mirrored = predict_ab(generator, lightness[:, ::rows, ::columns], average_flips=True)
        np.testing.assert_allclose(mirrored[:, ::rows, ::columns], averaged, atol=1e-6)
    # One network's output alone is not (its weights are not symmetric), so the average changes something.
    assert np.abs(predict_ab(generator, lightness[:, :, ::-1])[:, :, ::-1] - plain).max() > 1e-3
    np.testing.assert_allclose(averaged, np.mean([
        predict_ab(generator, lightness[:, ::r, ::c])[:, ::r, ::c] for r, c in ((1, 1), (1, -1), (-1, 1), (-1, -1))
    ], axis=0), atol=1e-6)  # fmt: skip
    photo = (np.random.default_rng(1).uniform(size=(40, 56, 3)) * 255).astype(np.uint8)
    assert colorize_photo(generator, photo, render_size=32, average_flips=True).shape == (40, 56, 3)

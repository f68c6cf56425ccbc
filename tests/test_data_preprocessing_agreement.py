"""The NumPy pipeline and the `tf.data` pipeline preprocess alike: same skip decisions, shapes and pixels.

Both take their rules from `kcolor.data.preprocessing_rules`; these tests hold the two implementations of those
rules (NumPy/PIL in `kcolor.data.preprocessing`, graph ops in `kcolor.data.tf_preprocessing` and
`kcolor.data.tf_pipeline`) equal on the same `uint8` images.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
from PIL import Image

from kcolor.data.preprocessing import crop_square, resize_shorter_side, skip_reason
from kcolor.data.preprocessing_rules import (
    NUMPY_MATH,
    SKIP_REASONS,
    colorfulness,
    crop_placement,
    resized_shape,
    skip_code,
    skip_tests,
)

# PIL and TensorFlow resize with the same antialiased triangle filter at the same half-pixel sample positions;
# PIL sums in fixed point and rounds once to uint8, TensorFlow sums in float32 and kcolor rounds once. Where the
# exact value lies within their rounding errors of a half level, one rounds up and the other down: one level of
# uint8, never two (measured on noise and smooth photos from 16 to 128 px, shrunk and enlarged: at most 1).
RESIZE_TOLERANCE = 1

# Shape ties: the shorter side scales to a whole number and a half on the longer side (112 x 175 at 8 px gives
# 12.5). Rounded in float64, as Python does, and in float32, as the TensorFlow path did, the first four differ.
TIES = [(112, 175, 8), (224, 315, 16), (80, 95, 24), (448, 623, 32), (3, 2, 3)]


def tinted(height, width, value, tint, seed=0):
    """A gray texture around `value`, tinted by `tint` (R, G, B offsets)."""
    texture = np.random.default_rng(seed).integers(-30, 30, (height, width, 1))
    return np.clip(value + texture + np.asarray(tint), 0, 255).astype(np.uint8)


def smooth_photo(height, width, seed):
    """A smooth color picture (a 5 x 5 color grid enlarged bicubically), like a photo's large shapes."""
    grid = np.random.default_rng(seed).integers(0, 256, (5, 5, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC))


def noise(height, width, seed):
    """Independent random channels: the hardest case for a resize."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3)).astype(np.uint8)


def agreement_images(image_size):
    """Odd sizes, portrait and landscape, shrunk, enlarged and untouched, gray, colorless and too small."""
    return [
        smooth_photo(41, 19, 0),  # portrait, odd sides
        smooth_photo(19, 53, 1),  # landscape
        noise(97, 61, 2),
        noise(image_size, image_size, 3),  # already the right size: passed through
        smooth_photo(image_size - 5, image_size + 9, 4),  # enlarged
        tinted(37, 23, 128, (0, 0, 0)),  # grayscale
        tinted(29, 45, 128, (6, 2, -5)),  # sepia: colorless
        smooth_photo(7, 40, 5),  # too small
        tinted(33, 31, 110, (40, 0, -40)),  # a color cast over texture: kept
    ]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def tensorflow_math():
    from kcolor.data.tf_preprocessing import TENSORFLOW_MATH

    return TENSORFLOW_MATH


def test_resized_shapes_agree_ties_included(tf):
    math = tensorflow_math()
    cases = TIES + [(height, width, size) for size in (8, 16, 32, 33, 128) for height, width in
                    ((size, size), (300, 451), (451, 300), (17, 9), (size - 1, 3 * size + 1))]  # fmt: skip
    for height, width, size in cases:
        expected = tuple(int(side) for side in resized_shape(height, width, size))
        got = tuple(int(side) for side in resized_shape(tf.constant(height), tf.constant(width), size, math))
        assert got == expected, (height, width, size)
    for height, width, size in TIES[:2]:
        from kcolor.data.tf_preprocessing import tf_resize_shorter_side

        image = smooth_photo(height, width, 0)
        assert tuple(tf_resize_shorter_side(tf.constant(image), size).shape) == resize_shorter_side(image, size).shape


def test_crop_placements_agree(tf):
    math = tensorflow_math()
    heights, widths = np.array([16, 16, 23, 40, 17], np.int32), np.array([16, 29, 16, 16, 40], np.int32)  # as tf.shape gives
    for uniform in (0.0, 0.2, 0.5, 0.7, np.nextafter(np.float32(1), np.float32(0))):
        uniforms = [np.full(len(heights), uniform, np.float32)] * 3
        expected = crop_placement(heights, widths, 16, uniforms)
        got = crop_placement(tf.constant(heights), tf.constant(widths), 16, [tf.constant(u) for u in uniforms], math)
        for expected_part, got_part in zip(expected, got):
            assert np.array_equal(np.asarray(expected_part), got_part.numpy()), uniform
    top, left, _ = crop_placement(tf.constant(heights), tf.constant(widths), 16, None, math)
    assert list(top.numpy()) == list((heights - 16) // 2) and list(left.numpy()) == list((widths - 16) // 2)


@pytest.mark.parametrize("image_size", [16, 25])
def test_skip_decisions_and_colorfulness_agree(image_size, tf):
    math = tensorflow_math()
    for image in agreement_images(image_size):
        height, width = image.shape[:2]
        numpy_code = int(skip_code(skip_tests(height, width, image, NUMPY_MATH), NUMPY_MATH))
        tf_code = int(skip_code(skip_tests(tf.constant(height), tf.constant(width), tf.constant(image), math), math))
        assert numpy_code == tf_code == (0 if skip_reason(image) is None else SKIP_REASONS.index(skip_reason(image)) + 1)
        # float32 sums in another order: equal to a few units in the last place of values up to about 100
        np.testing.assert_allclose(float(colorfulness(tf.constant(image), math)), float(colorfulness(image)), rtol=1e-5)


@pytest.mark.parametrize("image_size", [16, 25])
def test_numpy_and_tf_data_pipelines_give_the_same_images(image_size, tf):
    from kcolor.data.options import LoadOptions
    from kcolor.data.reporting import SkipReport
    from kcolor.data.tf_pipeline import batch_pipeline, drop_unusable_images
    from kcolor.data.tf_preprocessing import tf_resize_shorter_side

    images = agreement_images(image_size)
    # The NumPy path: check the source, resize, center square (load_dataset's evaluation path for folders).
    reasons = [skip_reason(image) for image in images]
    kept = [index for index, reason in enumerate(reasons) if reason is None]
    resized = {index: resize_shorter_side(images[index], image_size) for index in kept}
    squares = np.stack([crop_square(resized[index], image_size) for index in kept])

    for index in kept:  # stage one on its own: the whole resized image
        tf_resized = tf_resize_shorter_side(tf.constant(images[index]), image_size).numpy()
        assert tf_resized.shape == resized[index].shape
        assert np.abs(tf_resized.astype(int) - resized[index]).max() <= RESIZE_TOLERANCE, images[index].shape

    # The tf.data path: the TFDS pipeline's stages one (checks after the resize) and two (center squares).
    dataset = tf.data.Dataset.from_generator(
        lambda: ((image, np.int64(index)) for index, image in enumerate(images)),
        output_signature=(tf.TensorSpec([None, None, 3], tf.uint8), tf.TensorSpec([], tf.int64)),
    )
    report = SkipReport("agreement")
    options = LoadOptions(image_size, batch_size=4, with_labels=True)
    pipeline = batch_pipeline(drop_unusable_images(dataset, report, image_size=image_size), options, shuffle_buffer=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SkippedImagesWarning of the report
        batches = list(pipeline.as_numpy_iterator())
    tf_squares = np.concatenate([batch for batch, _ in batches])
    tf_kept = [int(label) for _, labels in batches for label in labels]

    assert tf_kept == kept
    assert report.counts == collections.Counter(reason for reason in reasons if reason is not None)
    assert tf_squares.shape == squares.shape == (len(kept), image_size, image_size, 3)
    assert np.abs(tf_squares.astype(int) - squares).max() <= RESIZE_TOLERANCE

"""The TensorFlow twins of `kcolor.data.preprocessing`: the preprocessing steps as graph ops.

`tf.data` runs these inside its parallel maps, where NumPy and PIL cannot run. They take every
threshold, shape, filter and crop placement from `kcolor.data.preprocessing_rules`, running its
rules on tensors through `TENSORFLOW_MATH`, so they agree with the NumPy steps (within one level
of `uint8` after a resize; tests/test_data_preprocessing_agreement.py). Twins of NumPy functions
are named `tf_...`; `crop_batch` crops a whole padded batch at once, which is what the pipelines
of `kcolor.data.tf_pipeline` use. This module imports TensorFlow: only TensorFlow code imports it.
"""

from __future__ import annotations

import tensorflow as tf

from kcolor.data.preprocessing_rules import (
    RESIZE_ANTIALIAS,
    RESIZE_METHOD,
    ArrayMath,
    crop_placement,
    resized_shape,
    skip_code,
    skip_tests,
)

TENSORFLOW_MATH = ArrayMath(
    cast=tf.cast,
    minimum=tf.minimum,
    maximum=tf.maximum,
    round=tf.round,  # half to even, as NumPy's
    where=tf.where,
    amax=lambda value, axis: tf.reduce_max(value, axis=axis),
    amin=lambda value, axis: tf.reduce_min(value, axis=axis),
    mean=tf.reduce_mean,
    std=tf.math.reduce_std,
    hypot=lambda a, b: tf.sqrt(a * a + b * b),
)
"""`ArrayMath` for tensors: the `preprocessing_rules` functions build graph ops with it."""


def skip_reason_code(image: tf.Tensor, source_shape: tf.Tensor | None = None) -> tf.Tensor:
    """0 to keep an RGB `uint8` image, else 1 + the index of its reason in `SKIP_REASONS`.

    The checks of `preprocessing_rules.skip_tests`, as `kcolor.data.preprocessing.skip_reason`
    makes them, run as graph ops (all of them; `preprocessing_rules.skip_code` picks the first).

    Args:
        image: the pixels whose colors are checked (grayscale, colorless).
        source_shape: `(height, width, ...)` of the source image for the "too small" check;
            default: the shape of `image`.

    Returns:
        An int32 scalar tensor.

    Example:
        ```python
        int(skip_reason_code(tf.zeros([32, 32, 3], tf.uint8)))  # 1: "grayscale"
        ```
    """
    shape = tf.shape(image) if source_shape is None else source_shape
    return skip_code(skip_tests(shape[0], shape[1], image, TENSORFLOW_MATH), TENSORFLOW_MATH)


def tf_resize_shorter_side(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """Resize so the shorter side is `image_size`, back to `uint8`: the graph-mode twin of `resize_shorter_side`.

    The shape is `preprocessing_rules.resized_shape`, the filter `RESIZE_METHOD` with
    `RESIZE_ANTIALIAS`, as in `kcolor.data.preprocessing.resize_shorter_side`; images of the
    right size are passed through untouched.

    Args:
        image: `uint8 (H, W, 3)`.
        image_size: the target length of the shorter side.

    Returns:
        `uint8 (new_height, new_width, 3)`.

    Example:
        ```python
        tf_resize_shorter_side(tf.zeros([300, 451, 3], tf.uint8), 64).shape  # (64, 96, 3)
        ```
    """
    shape = tf.shape(image)[:2]
    new_shape = tf.stack(resized_shape(shape[0], shape[1], image_size, TENSORFLOW_MATH))

    def resize():
        resized = tf.image.resize(image, new_shape, method=RESIZE_METHOD, antialias=RESIZE_ANTIALIAS)
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    return tf.cond(tf.reduce_all(tf.equal(new_shape, shape)), lambda: image, resize)


def tf_crop_square(image: tf.Tensor, image_size: int, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Cut an `image_size` square of one image: the graph-mode twin of `crop_square`.

    Random with a left-right flip, or the center, placed by `preprocessing_rules.crop_placement`;
    the pipelines crop whole batches with `crop_batch` instead.

    Args:
        image: `uint8 (H, W, 3)` with `min(H, W) >= image_size`.
        image_size: the side of the square.
        seed: a stateless seed of shape `(2,)` for training; None for the center crop.

    Returns:
        `uint8 (image_size, image_size, 3)`.

    Example:
        ```python
        tf_crop_square(tf.zeros([32, 48, 3], tf.uint8), 32, tf.constant([0, 1])).shape  # (32, 32, 3)
        ```
    """
    square = crop_batch(image[tf.newaxis], tf.shape(image)[tf.newaxis, :2], image_size, seed)
    return square[0]


GATHER_MAX_SIZE = 64
"""Up to this crop size `crop_batch` crops with two `tf.gather` over the whole batch; above
it, with one slice per image (`tf.map_fn`). A gather moves 3-byte pixels one by one, which is
cheapest for small crops, where the per-image overhead dominates; slices copy whole rows, which
wins for large crops (measured at 32 and 128 px)."""


def crop_batch(images: tf.Tensor, sizes: tf.Tensor, image_size: int, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Cut an `image_size` square out of every image of a padded batch, all at once.

    Training (`seed` given): each square lies at a uniformly random position inside its own
    image and is flipped left-right with probability 0.5, independently per image, as
    `kcolor.data.preprocessing.crop_square` does one image at a time (both place squares with
    `preprocessing_rules.crop_placement`). Evaluation (no seed): the center square, no flip.

    Args:
        images: `uint8 (B, H, W, 3)`; image `i` fills the top-left `sizes[i]` corner (the rest
            is padding, as `Dataset.padded_batch` leaves it).
        sizes: `int32 (B, 2)` heights and widths, each at least `image_size`.
        image_size: the side of the squares.
        seed: a stateless seed of shape `(2,)`; it fixes every square of the batch.

    Returns:
        `uint8 (B, image_size, image_size, 3)`.

    Example:
        ```python
        images, sizes = tf.zeros([2, 40, 48, 3], tf.uint8), tf.constant([[32, 48], [40, 32]])
        crop_batch(images, sizes, 32, tf.constant([0, 1])).shape  # (2, 32, 32, 3)
        ```
    """
    count = tf.shape(images)[0]
    heights, widths = tf.unstack(tf.cast(sizes, tf.int32), num=2, axis=1)
    if seed is None:
        top, left, _ = crop_placement(heights, widths, image_size, None, TENSORFLOW_MATH)
        flip = tf.zeros([count], tf.bool)
    else:
        streams = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
        uniforms = [tf.random.stateless_uniform([count], streams[part]) for part in range(3)]  # row, column, flip
        top, left, flip = crop_placement(heights, widths, image_size, uniforms, TENSORFLOW_MATH)
    if image_size <= GATHER_MAX_SIZE:
        steps = tf.range(image_size)
        rows = top[:, tf.newaxis] + steps
        columns = left[:, tf.newaxis] + tf.where(flip[:, tf.newaxis], image_size - 1 - steps, steps)
        squares = tf.gather(images, rows, axis=1, batch_dims=1)
        squares = tf.gather(squares, columns, axis=2, batch_dims=1)
    else:

        def crop_one(arguments):
            image, top_one, left_one, flip_one = arguments
            square = image[top_one : top_one + image_size, left_one : left_one + image_size]
            return tf.cond(flip_one, lambda: tf.reverse(square, axis=[1]), lambda: square)

        signature = tf.TensorSpec([image_size, image_size, 3], images.dtype)
        squares = tf.map_fn(crop_one, (images, top, left, flip), fn_output_signature=signature)
    return tf.ensure_shape(squares, [None, image_size, image_size, 3])

"""The ``tf.data`` versions of the preprocessing stages, and the pipelines built from them.

Same two stages as :mod:`kcolor.data.preprocessing`, written with TensorFlow ops so they run
in parallel inside ``tf.data``: drop unusable images (:func:`drop_unusable_images`, with one
report at the end of the first pass), resize the shorter side (:func:`resize_shorter_side`),
then cache, shuffle, crop and flip on ``uint8`` (:func:`crop_square`), batch and prefetch
(:func:`batch_pipeline`). Random ops are stateless and fed from ``tf.data.Dataset.random``, so a
seed fixes every epoch's order and crops while epochs still differ. Local sources enter through
:func:`image_source_dataset`; ``sample`` through :func:`numpy_batches_dataset`. This module
imports TensorFlow at import time, so :mod:`kcolor.data` imports it lazily.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from kcolor.data.images import GRAYSCALE_TOLERANCE
from kcolor.data.options import LoadOptions
from kcolor.data.preprocessing import MIN_SOURCE_SIDE, SKIP_REASONS
from kcolor.data.reporting import SkipReport
from kcolor.data.sources import ImageSource

AUTOTUNE = tf.data.AUTOTUNE


def skip_reason_code(image: tf.Tensor) -> tf.Tensor:
    """0 to keep an RGB ``uint8`` image, else 1 + the index of its reason in ``SKIP_REASONS``.

    Mirrors :func:`kcolor.data.preprocessing.skip_reason`.
    """
    shape = tf.shape(image)
    too_small = tf.minimum(shape[0], shape[1]) < MIN_SOURCE_SIDE
    spread = tf.reduce_max(image, axis=-1) - tf.reduce_min(image, axis=-1)
    grayscale = tf.reduce_max(tf.cast(spread, tf.int32)) <= GRAYSCALE_TOLERANCE
    return tf.where(too_small, SKIP_REASONS.index("too small") + 1, tf.where(grayscale, SKIP_REASONS.index("grayscale") + 1, 0))


def drop_unusable_images(dataset: tf.data.Dataset, report: SkipReport, *, limit: int | None = None) -> tf.data.Dataset:
    """Filter out grayscale and too small images of an ``(image, label)`` dataset, counting them.

    Args:
        dataset: elements ``(uint8 image (H, W, 3), label)``.
        report: counts every skipped image; :meth:`SkipReport.report` is called once the first
            pass is complete.
        limit: keep only the first ``limit`` usable images.

    Returns:
        The filtered dataset.
    """

    def count_skip(code):
        report.skip(SKIP_REASONS[int(code) - 1])
        return False

    def keep(image, label):
        code = skip_reason_code(image)
        return tf.cond(
            code == 0, lambda: tf.constant(True), lambda: tf.reshape(tf.py_function(count_skip, [code], tf.bool), [])
        )

    dataset = dataset.filter(keep)
    if limit is not None:
        dataset = dataset.take(limit)
    return call_after_last_element(dataset, report.report)


def call_after_last_element(dataset: tf.data.Dataset, callback: Callable[[], None]) -> tf.data.Dataset:
    """Run ``callback`` in Python each time an iteration of ``dataset`` is exhausted.

    Implemented as one extra element, built to match ``dataset.element_spec``, whose filter
    predicate calls ``callback`` and drops it.
    """

    def placeholder(spec: tf.TensorSpec) -> tf.Tensor:
        return tf.zeros([0 if size is None else size for size in spec.shape], spec.dtype)

    def run_callback(*element):
        return tf.reshape(tf.py_function(lambda: (callback(), False)[1], [], tf.bool), [])

    sentinel = tf.data.Dataset.from_tensors(tf.nest.map_structure(placeholder, dataset.element_spec)).filter(run_callback)
    return dataset.concatenate(sentinel)


def resize_shorter_side(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """Resize so the shorter side is ``image_size`` (bilinear, antialiased), back to ``uint8``.

    Mirrors :func:`kcolor.data.preprocessing.resize_shorter_side`; images of the right size
    are passed through untouched.
    """
    shape = tf.shape(image)[:2]
    scale = image_size / tf.cast(tf.reduce_min(shape), tf.float32)
    new_shape = tf.maximum(image_size, tf.cast(tf.round(tf.cast(shape, tf.float32) * scale), tf.int32))

    def resize():
        resized = tf.image.resize(image, new_shape, method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    return tf.cond(tf.reduce_all(tf.equal(new_shape, shape)), lambda: image, resize)


def crop_square(image: tf.Tensor, image_size: int, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Cut an ``image_size`` square: random with a p = 0.5 left-right flip, or the center.

    Mirrors :func:`kcolor.data.preprocessing.crop_square`.

    Args:
        image: ``uint8 (H, W, 3)`` with ``min(H, W) >= image_size``.
        image_size: the side of the square.
        seed: a stateless seed of shape ``(2,)`` for training; None for the center crop.
    """
    shape = tf.shape(image)
    if seed is None:
        top, left = (shape[0] - image_size) // 2, (shape[1] - image_size) // 2
    else:
        seeds = tf.random.experimental.stateless_split(seed, 3)
        top = tf.random.stateless_uniform([], seeds[0], 0, shape[0] - image_size + 1, dtype=tf.int32)
        left = tf.random.stateless_uniform([], seeds[1], 0, shape[1] - image_size + 1, dtype=tf.int32)
    square = image[top : top + image_size, left : left + image_size]
    if seed is not None:
        flip = tf.random.stateless_uniform([], seeds[2]) < 0.5
        square = tf.cond(flip, lambda: tf.reverse(square, axis=[1]), lambda: square)
    return tf.ensure_shape(square, [image_size, image_size, 3])


def batch_pipeline(dataset: tf.data.Dataset, options: LoadOptions, *, shuffle_buffer: int | None) -> tf.data.Dataset:
    """Stage two on ``(image, label)`` elements: shuffle, crop (and flip), batch, prefetch.

    Args:
        dataset: ``(uint8 image with shorter side image_size, int64 label)`` elements.
        options: size, batching, seed and augmentation. The element order of parallel maps is
            kept when ``options.deterministic``; otherwise it may vary, which is faster.
        shuffle_buffer: shuffle with a buffer of this many elements; None does not shuffle
            here (the caller may have shuffled already).

    Returns:
        The batched, prefetched dataset.
    """
    size, seed = options.image_size, options.seed
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if options.augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda element, pair: (crop_square(element[0], size, pair), element[1]), num_parallel_calls=AUTOTUNE
        )
    else:
        dataset = dataset.map(lambda image, label: (crop_square(image, size), label), num_parallel_calls=AUTOTUNE)
    dataset = dataset.batch(options.batch_size, drop_remainder=options.drop_remainder)
    if not options.with_labels:
        dataset = dataset.map(lambda images, labels: images)
    data_options = tf.data.Options()
    data_options.deterministic = options.deterministic
    return dataset.prefetch(AUTOTUNE).with_options(data_options)


def image_source_dataset(source: ImageSource, options: LoadOptions) -> tf.data.Dataset:
    """A ``tf.data`` pipeline over a folder or npz :class:`~kcolor.data.sources.ImageSource`.

    The indices are shuffled (a full shuffle, it costs nothing), images are fetched in parallel
    with ``tf.numpy_function`` (decoding files when the source is not cached), then
    :func:`batch_pipeline` crops and batches them.
    """

    def load(index):
        return source.image(index), np.int64(source.labels[index])

    def load_element(index):
        image, label = tf.numpy_function(load, [index], (tf.uint8, tf.int64))
        return tf.ensure_shape(image, [None, None, 3]), tf.ensure_shape(label, [])

    indices = tf.data.Dataset.range(len(source))
    if options.shuffle:
        indices = indices.shuffle(len(source), seed=options.seed, reshuffle_each_iteration=True)
    return batch_pipeline(indices.map(load_element, num_parallel_calls=AUTOTUNE), options, shuffle_buffer=None)


def numpy_batches_dataset(batches, image_size: int) -> tf.data.Dataset:
    """Wrap :class:`~kcolor.data.numpy_pipeline.NumpyBatches` (the sample set) as ``tf.data``.

    Every iteration of the dataset is one pass over ``batches`` and so one epoch of crops.
    """
    images_spec = tf.TensorSpec([None, image_size, image_size, 3], tf.uint8)
    signature = (images_spec, tf.TensorSpec([None], tf.int64)) if batches.with_labels else images_spec
    dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return dataset.prefetch(AUTOTUNE)

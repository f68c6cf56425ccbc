"""The ``tf.data`` versions of the preprocessing stages, and the pipelines built from them.

Same two stages as :mod:`kcolor.data.preprocessing`, written with TensorFlow ops so they run
in parallel inside ``tf.data``: resize the shorter side (:func:`resize_shorter_side`), drop
unusable images and note each image's size (:func:`drop_unusable_images`, with one report at the
end of the first pass), then cache, shuffle, batch the uncropped images
(padded to the batch's largest), crop and flip them a whole batch at a time
(:func:`crop_batch`), and prefetch (:func:`batch_pipeline`). Random ops are stateless and fed
from ``tf.data.Dataset.random``, so a seed fixes every epoch's order and crops while epochs still
differ. Local sources enter through :func:`image_source_dataset`, which asks
:class:`~kcolor.data.numpy_pipeline.ImageSourceSampler` for one batch per call; ``sample``
through :func:`numpy_batches_dataset`. This module imports TensorFlow at import time, so
:mod:`kcolor.data` imports it lazily.

Why whole batches: at 32 px a per-image ``map`` costs more than the work it does (tf.data runs
a function per element), and the per-batch crop made the cached CIFAR-10 pipeline about three
times cheaper per image (docs/PERFORMANCE.md, "Input pipeline on two cores").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from kcolor.data.images import GRAYSCALE_TOLERANCE
from kcolor.data.options import LoadOptions
from kcolor.data.preprocessing import MIN_SOURCE_COLORFULNESS, MIN_SOURCE_SIDE, SKIP_REASONS
from kcolor.data.reporting import SkipReport
from kcolor.data.sources import ImageSource

AUTOTUNE = tf.data.AUTOTUNE


def skip_reason_code(image: tf.Tensor, source_shape: tf.Tensor | None = None) -> tf.Tensor:
    """0 to keep an RGB ``uint8`` image, else 1 + the index of its reason in ``SKIP_REASONS``.

    Mirrors :func:`kcolor.data.preprocessing.skip_reason`.

    Args:
        image: the pixels whose colors are checked (grayscale, colorless).
        source_shape: ``(height, width, ...)`` of the source image for the "too small" check;
            default: the shape of ``image``.
    """
    shape = tf.shape(image) if source_shape is None else source_shape
    too_small = tf.minimum(shape[0], shape[1]) < MIN_SOURCE_SIDE
    spread = tf.reduce_max(image, axis=-1) - tf.reduce_min(image, axis=-1)
    grayscale = tf.reduce_max(tf.cast(spread, tf.int32)) <= GRAYSCALE_TOLERANCE
    rgb = tf.cast(image, tf.float32)
    red_green = rgb[..., 0] - rgb[..., 1]
    yellow_blue = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    colorfulness = tf.sqrt(tf.math.reduce_variance(red_green) + tf.math.reduce_variance(yellow_blue)) + 0.3 * tf.sqrt(
        tf.reduce_mean(red_green) ** 2 + tf.reduce_mean(yellow_blue) ** 2
    )
    colorless = colorfulness < MIN_SOURCE_COLORFULNESS
    code = tf.where(colorless, SKIP_REASONS.index("colorless") + 1, 0)
    code = tf.where(grayscale, SKIP_REASONS.index("grayscale") + 1, code)
    return tf.where(too_small, SKIP_REASONS.index("too small") + 1, code)


def drop_unusable_images(
    dataset: tf.data.Dataset, report: SkipReport, *, image_size: int, limit: int | None = None
) -> tf.data.Dataset:
    """Stage one on ``(image, label)`` elements: resize, drop unusable images (counted), note sizes.

    Every image is resized so its shorter side is ``image_size`` (:func:`resize_shorter_side`),
    then checked (:func:`skip_reason_code`): "too small" on the source's shape, "grayscale" and
    "colorless" on the resized pixels. Checking the resized image costs a fraction of checking
    the source (a 320 px Imagenette photo has six times the pixels of its 128 px version) and
    drops the same images but for borderline cases (docs/PERFORMANCE.md).

    Args:
        dataset: elements ``(uint8 image (H, W, 3), label)``.
        report: counts every skipped image; :meth:`SkipReport.report` is called once the first
            pass is complete.
        image_size: the length of the resized images' shorter side.
        limit: keep only the first ``limit`` usable images.

    Returns:
        ``(image, size, label)`` elements (:func:`with_size`) of the usable images.
    """

    def count_skip(code):
        report.skip(SKIP_REASONS[int(code) - 1])
        return False

    def resize_and_check(image, label):
        resized = resize_shorter_side(image, image_size)
        return with_size(resized, label) + (skip_reason_code(resized, tf.shape(image)),)

    def keep(image, size, label, code):
        return tf.cond(
            code == 0, lambda: tf.constant(True), lambda: tf.reshape(tf.py_function(count_skip, [code], tf.bool), [])
        )

    dataset = dataset.map(resize_and_check, num_parallel_calls=AUTOTUNE).filter(keep)
    dataset = dataset.map(lambda image, size, label, code: (image, size, label))
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


JPEG_SCALES = (1, 2, 4, 8)
"""The scales libjpeg can decode a JPEG at (1/1, 1/2, 1/4, 1/8), in the frequency domain."""


def decode_image(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
    """Decode an image file's bytes (JPEG, PNG, GIF, BMP) to ``uint8 (H, W, 3)``, a large JPEG at a reduced scale.

    A JPEG whose shorter side is at least twice ``image_size`` is decoded at the smallest scale
    of :data:`JPEG_SCALES` that keeps its shorter side at least ``image_size`` (the resize to
    ``image_size`` follows, as for every image). For a 320 px Imagenette photo and 128 px
    training crops that is half size, which saved 0.3 of 2.1 ms of CPU per photo for decoding,
    resizing and checking it (docs/PERFORMANCE.md). Other formats, and JPEGs under twice
    ``image_size``, are decoded in full.
    """

    def jpeg():
        shape = tf.io.extract_jpeg_shape(encoded)
        shorter = tf.minimum(shape[0], shape[1])
        scale = tf.add_n([tf.cast(shorter >= factor * image_size, tf.int32) for factor in JPEG_SCALES[1:]])
        branches = [lambda factor=factor: tf.io.decode_jpeg(encoded, channels=3, ratio=factor)
                    for factor in JPEG_SCALES]  # fmt: skip
        return tf.switch_case(scale, branches)

    def other():
        return tf.io.decode_image(encoded, channels=3, dtype=tf.uint8, expand_animations=False)

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg, other)
    return tf.ensure_shape(image, [None, None, 3])


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
    """Cut an ``image_size`` square of one image: random with a p = 0.5 left-right flip, or the center.

    Mirrors :func:`kcolor.data.preprocessing.crop_square`; the pipelines crop whole batches with
    :func:`crop_batch` instead.

    Args:
        image: ``uint8 (H, W, 3)`` with ``min(H, W) >= image_size``.
        image_size: the side of the square.
        seed: a stateless seed of shape ``(2,)`` for training; None for the center crop.
    """
    square = crop_batch(image[tf.newaxis], tf.shape(image)[tf.newaxis, :2], image_size, seed)
    return square[0]


def with_size(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """``(image, (height, width), label)``: the element form that :func:`batch_pipeline` takes.

    Apply it before the cache, so that the per-epoch part of the pipeline has no per-image step.
    """
    return image, tf.shape(image)[:2], label


GATHER_MAX_SIZE = 64
"""Up to this crop size :func:`crop_batch` crops with two ``tf.gather`` over the whole batch; above
it, with one slice per image (``tf.map_fn``). A gather moves 3-byte pixels one by one, which is
cheapest for small crops, where the per-image overhead dominates; slices copy whole rows, which
wins for large crops (measured at 32 and 128 px)."""


def crop_batch(images: tf.Tensor, sizes: tf.Tensor, image_size: int, seed: tf.Tensor | None = None) -> tf.Tensor:
    """Cut an ``image_size`` square out of every image of a padded batch, all at once.

    Training (``seed`` given): each square lies at a uniformly random position inside its own
    image and is flipped left-right with probability 0.5, independently per image, as
    :func:`kcolor.data.preprocessing.crop_square` does one image at a time. Evaluation (no seed):
    the center square, no flip.

    Args:
        images: ``uint8 (B, H, W, 3)``; image ``i`` fills the top-left ``sizes[i]`` corner (the rest
            is padding, as ``Dataset.padded_batch`` leaves it).
        sizes: ``int32 (B, 2)`` heights and widths, each at least ``image_size``.
        image_size: the side of the squares.
        seed: a stateless seed of shape ``(2,)``; it fixes every square of the batch.

    Returns:
        ``uint8 (B, image_size, image_size, 3)``.
    """
    count = tf.shape(images)[0]
    room = tf.cast(sizes, tf.int32) - image_size  # how far each square can move down and right
    if seed is None:
        top, left, flip = room[:, 0] // 2, room[:, 1] // 2, tf.zeros([count], tf.bool)
    else:
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)

        def position(room_1d, stream):
            uniform = tf.random.stateless_uniform([count], stream)
            return tf.minimum(tf.cast(uniform * tf.cast(room_1d + 1, tf.float32), tf.int32), room_1d)

        top, left = position(room[:, 0], seeds[0]), position(room[:, 1], seeds[1])
        flip = tf.random.stateless_uniform([count], seeds[2]) < 0.5
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


def batch_pipeline(dataset: tf.data.Dataset, options: LoadOptions, *, shuffle_buffer: int | None) -> tf.data.Dataset:
    """Stage two on ``(image, size, label)`` elements: shuffle, batch, crop (and flip), prefetch.

    Args:
        dataset: ``(uint8 image with shorter side image_size, int32 (height, width), int64 label)``
            elements, as :func:`with_size` makes them.
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
    dataset = dataset.padded_batch(options.batch_size, drop_remainder=options.drop_remainder)
    if options.augment:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, pair: (crop_batch(batch[0], batch[1], size, pair), batch[2]), num_parallel_calls=AUTOTUNE
        )
    else:
        dataset = dataset.map(lambda images, sizes, labels: (crop_batch(images, sizes, size), labels),
                              num_parallel_calls=AUTOTUNE)  # fmt: skip
    return _finish(dataset, options)


def pipeline_options(deterministic: bool = True) -> tf.data.Options:
    """The ``tf.data.Options`` of every kcolor pipeline: the determinism option, and no autotuning model.

    With autotuning on, each pipeline's iterator runs a model thread, and destroying the iterator waits for
    it: on the 2-vCPU Zen 4 that wait took up to tens of seconds with the CPU idle (at the end of each pass of
    a TFDS run, and when a process exits; 4 short trainings on TFDS mock data took 50-87 s instead of 35 s,
    the same CPU time). Without it, an ``AUTOTUNE`` parallelism stays at its starting value, the smaller of 16
    and the number of CPUs tf.data may use; the pipelines' throughput per CPU-second did not drop
    (docs/PERFORMANCE.md).
    """
    data_options = tf.data.Options()
    data_options.deterministic = deterministic
    data_options.autotune.enabled = False
    return data_options


def _finish(dataset: tf.data.Dataset, options: LoadOptions) -> tf.data.Dataset:
    """Drop the labels unless asked for, prefetch, and set `pipeline_options`."""
    if not options.with_labels:
        dataset = dataset.map(lambda images, labels: images)
    return dataset.prefetch(AUTOTUNE).with_options(pipeline_options(options.deterministic))


def image_source_dataset(source: ImageSource, options: LoadOptions) -> tf.data.Dataset:
    """A ``tf.data`` pipeline over a folder or npz :class:`~kcolor.data.sources.ImageSource`.

    Each element is one batch that :class:`~kcolor.data.numpy_pipeline.ImageSourceSampler`
    shuffles and crops in one ``tf.numpy_function`` call (decoding files when the source is not
    cached); batches are made in parallel. Every iteration draws a new epoch key from
    ``Dataset.random``, so epochs differ and a seed fixes them all.
    """
    from kcolor.data.numpy_pipeline import ImageSourceSampler

    sampler = ImageSourceSampler(source, options)
    count, batch_size, size = len(source), options.batch_size, options.image_size
    batches = count // batch_size if options.drop_remainder else -(-count // batch_size)

    def load(key, index):
        start = int(index) * batch_size
        epoch = int(np.asarray(key).astype(np.uint64))
        return sampler.items(epoch, range(start, min(start + batch_size, count)))

    def load_batch(key, index):
        images, labels = tf.numpy_function(load, [key, index], (tf.uint8, tf.int64))
        return tf.ensure_shape(images, [None, size, size, 3]), tf.ensure_shape(labels, [None])

    keys = tf.data.Dataset.random(seed=options.seed, rerandomize_each_iteration=True).take(1)
    indices = keys.flat_map(lambda key: tf.data.Dataset.range(batches).map(lambda index: (key, index)))
    dataset = indices.map(load_batch, num_parallel_calls=AUTOTUNE)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return _finish(dataset, options)


def numpy_batches_dataset(batches, image_size: int) -> tf.data.Dataset:
    """Wrap :class:`~kcolor.data.numpy_pipeline.NumpyBatches` (the sample set) as ``tf.data``.

    Every iteration of the dataset is one pass over ``batches`` and so one epoch of crops.
    """
    images_spec = tf.TensorSpec([None, image_size, image_size, 3], tf.uint8)
    signature = (images_spec, tf.TensorSpec([None], tf.int64)) if batches.with_labels else images_spec
    dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return dataset.prefetch(AUTOTUNE).with_options(pipeline_options())

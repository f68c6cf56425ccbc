"""The `tf.data` pipelines: the preprocessing stages of `kcolor.data.preprocessing` run in parallel.

Same two stages as the NumPy pipeline, made of the graph-mode steps of
`kcolor.data.tf_preprocessing` (which take their rules from `kcolor.data.preprocessing_rules`):
decode (`decode_image`), resize the shorter side (`tf_resize_shorter_side`), drop
unusable images and note each image's size (`drop_unusable_images`, with one report at the
end of the first pass), then cache, shuffle, batch the uncropped images
(padded to the batch's largest), crop and flip them a whole batch at a time
(`crop_batch`), and prefetch (`batch_pipeline`). Random ops are stateless and fed
from `tf.data.Dataset.random`, so a seed fixes every epoch's order and crops while epochs still
differ. Local sources enter through `image_source_dataset`, which asks
`kcolor.data.numpy_pipeline.ImageSourceSampler` for one batch per call; `sample`
through `numpy_batches_dataset`. This module imports TensorFlow at import time, so
`kcolor.data` imports it lazily.

Why whole batches: at 32 px a per-image `map` costs more than the work it does (tf.data runs
a function per element), and the per-batch crop made the cached CIFAR-10 pipeline about three
times cheaper per image (docs/PERFORMANCE.md, "Input pipeline on two cores").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from kcolor.data.options import LoadOptions
from kcolor.data.preprocessing_rules import SKIP_REASONS
from kcolor.data.reporting import SkipReport
from kcolor.data.tf_preprocessing import crop_batch, skip_reason_code, tf_resize_shorter_side

AUTOTUNE = tf.data.AUTOTUNE


def drop_unusable_images(
    dataset: tf.data.Dataset, report: SkipReport, *, image_size: int, limit: int | None = None
) -> tf.data.Dataset:
    """Stage one on `(image, label)` elements: resize, drop unusable images (counted), note sizes.

    Every image is resized so its shorter side is `image_size` (`tf_resize_shorter_side`),
    then checked (`skip_reason_code`): "too small" on the source's shape, "grayscale" and
    "colorless" on the resized pixels. Checking the resized image costs a fraction of checking
    the source (a 320 px Imagenette photo has six times the pixels of its 128 px version) and
    drops the same images but for borderline cases (docs/PERFORMANCE.md).

    Args:
        dataset: elements `(uint8 image (H, W, 3), label)`.
        report: counts every skipped image; `SkipReport.report` is called once the first
            pass is complete.
        image_size: the length of the resized images' shorter side.
        limit: keep only the first `limit` usable images.

    Returns:
        `(image, size, label)` elements (`with_size`) of the usable images.
    """

    def count_skip(code):
        report.skip(SKIP_REASONS[int(code) - 1])
        return False

    def resize_and_check(image, label):
        resized = tf_resize_shorter_side(image, image_size)
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
    """Run `callback` in Python each time an iteration of `dataset` is exhausted.

    Implemented as one extra element, built to match `dataset.element_spec`, whose filter
    predicate calls `callback` and drops it.

    Args:
        dataset: any dataset.
        callback: called with no arguments, in Python, after each complete pass.

    Returns:
        A dataset with the same elements.

    Example:
        ```python
        dataset = call_after_last_element(tf.data.Dataset.range(3), lambda: print("done"))
        list(dataset.as_numpy_iterator())  # prints "done", then gives [0, 1, 2]
        ```
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
    """Decode an image file's bytes (JPEG, PNG, GIF, BMP) to `uint8 (H, W, 3)`, a large JPEG at a reduced scale.

    A JPEG whose shorter side is at least twice `image_size` is decoded at the smallest scale
    of `JPEG_SCALES` that keeps its shorter side at least `image_size` (the resize to
    `image_size` follows, as for every image). For a 320 px Imagenette photo and 128 px
    training crops that is half size, which saved 0.3 of 2.1 ms of CPU per photo for decoding,
    resizing and checking it (docs/PERFORMANCE.md). Other formats, and JPEGs under twice
    `image_size`, are decoded in full.

    Args:
        encoded: a string scalar tensor, the file's bytes.
        image_size: the training size the image will be resized to.

    Returns:
        `uint8 (H, W, 3)`.

    Example:
        ```python
        decode_image(tf.io.read_file("beach.jpg"), 128).shape  # (240, 320, 3) for a 480 x 640 photo
        ```
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


def with_size(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`(image, (height, width), label)`: the element form that `batch_pipeline` takes.

    Apply it before the cache, so that the per-epoch part of the pipeline has no per-image step.

    Args:
        image: `uint8 (H, W, 3)`.
        label: the image's label.

    Returns:
        `(image, int32 [H, W], label)`.

    Example:
        ```python
        dataset = dataset.map(with_size).cache()
        ```
    """
    return image, tf.shape(image)[:2], label


def batch_pipeline(dataset: tf.data.Dataset, options: LoadOptions, *, shuffle_buffer: int | None) -> tf.data.Dataset:
    """Stage two on `(image, size, label)` elements: shuffle, batch, crop (and flip), prefetch.

    Args:
        dataset: `(uint8 image with shorter side image_size, int32 (height, width), int64 label)`
            elements, as `with_size` makes them.
        options: size, batching, seed and augmentation. The element order of parallel maps is
            kept when `options.deterministic`; otherwise it may vary, which is faster.
        shuffle_buffer: shuffle with a buffer of this many elements; None does not shuffle
            here (the caller may have shuffled already).

    Returns:
        The batched, prefetched dataset.

    Example:
        ```python
        options = LoadOptions(32, 128, seed=0, shuffle=True, augment=True)
        batches = batch_pipeline(images_and_labels.map(with_size).cache(), options, shuffle_buffer=10_000)
        ```
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
    """The `tf.data.Options` of every kcolor pipeline: the determinism option, and no autotuning model.

    With autotuning on, each pipeline's iterator runs a model thread, and destroying the iterator waits for
    it: on the 2-vCPU Zen 4 that wait took up to tens of seconds with the CPU idle (at the end of each pass of
    a TFDS run, and when a process exits; 4 short trainings on TFDS mock data took 50-87 s instead of 35 s,
    the same CPU time). Without it, an `AUTOTUNE` parallelism stays at its starting value, the smaller of 16
    and the number of CPUs tf.data may use; the pipelines' throughput per CPU-second did not drop
    (docs/PERFORMANCE.md).

    Args:
        deterministic: keep the element order of parallel maps.

    Returns:
        A new `tf.data.Options`.

    Example:
        ```python
        dataset = dataset.with_options(pipeline_options())
        ```
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


def image_source_dataset(sampler, options: LoadOptions) -> tf.data.Dataset:
    """A `tf.data` pipeline over a folder or npz source, batches made by its NumPy sampler.

    Each element is one batch that the `kcolor.data.numpy_pipeline.ImageSourceSampler` shuffles
    and crops in one `tf.numpy_function` call (decoding files when the source is not cached);
    batches are made in parallel. Every iteration draws a new epoch key from `Dataset.random`,
    so epochs differ and a seed fixes them all.

    Args:
        sampler: the `ImageSourceSampler` of the split (`kcolor.data.dataset.local_sampler`).
        options: batching, seed and labels.

    Returns:
        The batched, prefetched dataset.

    Example:
        ```python
        options = LoadOptions(32, 128, seed=0, shuffle=True, augment=True)
        dataset = image_source_dataset(local_sampler(parse_spec("folder:photos"), "train", options), options)
        ```
    """
    count, batch_size, size = sampler.num_items, options.batch_size, options.image_size
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
    """Wrap `kcolor.data.numpy_pipeline.NumpyBatches` (the sample set) as `tf.data`.

    Every iteration of the dataset is one pass over `batches` and so one epoch of crops.

    Args:
        batches: the `NumpyBatches`.
        image_size: the side of its square images.

    Returns:
        The prefetched dataset of the same batches.

    Example:
        ```python
        dataset = numpy_batches_dataset(NumpyBatches(sampler, options), options.image_size)
        ```
    """
    images_spec = tf.TensorSpec([None, image_size, image_size, 3], tf.uint8)
    signature = (images_spec, tf.TensorSpec([None], tf.int64)) if batches.with_labels else images_spec
    dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return dataset.prefetch(AUTOTUNE).with_options(pipeline_options())

"""The entry points: `load_dataset`, `load_arrays` and `class_names`.

`load_dataset` turns a spec (see `kcolor.data.spec`) into batches of `uint8` RGB
images of shape `(batch, image_size, image_size, 3)`, exactly what `ColorizationGAN.fit`
consumes. With TensorFlow installed it returns a `tf.data.Dataset`; without it (JAX users)
`sample`, `folder:` and `npz:` come as a `kcolor.data.numpy_pipeline.NumpyBatches`
(a `keras.utils.PyDataset` of NumPy arrays). Neither TensorFlow nor Keras is imported until a
dataset is built.

These are datasets in epochs, and finite arrays for evaluation; `kcolor.training_data` builds the
resumable training stream (batches by global step) on top of them and of `local_sampler`.
"""

from __future__ import annotations

import os

import numpy as np

from kcolor.data.options import LoadOptions, check_positive_count
from kcolor.data.spec import DatasetSpec, is_training_split, local_split, parse_spec, unknown_dataset_error


def load_dataset(
    spec: str | os.PathLike | DatasetSpec,
    split: str = "train",
    image_size: int = 32,
    batch_size: int = 128,
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int | None = None,
    shuffle: bool | None = None,
    augment: bool | None = None,
    with_labels: bool = False,
    limit: int | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
):
    """Load a dataset as batches of `uint8` RGB images for colorization.

    Training preprocessing (the paper's): resize the shorter side to `image_size` keeping the
    aspect ratio (small images are scaled up; ones under 8 px are skipped), random
    `image_size` square, left-right flip with p = 0.5. Evaluation: resize and center square.
    Grayscale sources are skipped and counted in one `SkippedImagesWarning` per load.

    Args:
        spec: `"cifar10"`, `"places365_small"` or another TFDS name with an RGB `image`
            feature; `"sample"` (offline photos); `"folder:PATH"`; `"npz:PATH"`.
        split: `"train"` or `"validation"` (`"val"`); TFDS also accepts `"test"` and
            slices such as `"train[:10%]"`. Validation falls back to a TFDS test split.
        image_size: side of the square images.
        batch_size: images per batch.
        data_dir: TFDS download folder; defaults to the project's `data/` folder in a
            checkout, else TFDS's default (`~/tensorflow_datasets`).
        seed: makes order and crops reproducible (and `tf.data` deterministic); epochs
            still differ from each other. None is random.
        shuffle: shuffle every epoch; defaults to True for `"train"`, False otherwise.
            (`sample` crops come in random order regardless.)
        augment: random crops and flips; defaults to True for `"train"`, False otherwise.
        with_labels: yield `(images, labels)` with `int64` labels; sources without labels
            (`sample`, a folder without class folders, npz files without `labels`) give `-1`.
        limit: use only the first `limit` usable images of the split (for `sample`: crops
            per epoch).
        cache: keep decoded, resized images in memory: TFDS splits when they fit in 2 GiB,
            folders always (`False` re-reads files every epoch); npz and sample are always in
            memory.
        drop_remainder: leave out a last, smaller batch.

    Returns:
        A `tf.data.Dataset` when TensorFlow is installed, else a `NumpyBatches`
        `PyDataset`; both work with `keras.Model.fit` and in `for` loops.

    Raises:
        DatasetNotFoundError: an unknown spec (close names are suggested).
        DatasetDownloadError: a TFDS download failed (e.g. offline).
        DatasetError: bad arguments, a missing or empty folder, a folder with only grayscale
            images, a malformed npz file, an unknown split, or TFDS without TensorFlow.

    Example:
        ```python
        train = load_dataset("sample", "train", image_size=32, batch_size=64, seed=0)
        for images in train.take(1):
            print(images.shape, images.dtype)
        # (64, 32, 32, 3) <dtype: 'uint8'>
        ```
    """
    dataset, _ = _build(
        spec, split, image_size, batch_size, data_dir=data_dir, seed=seed, shuffle=shuffle, augment=augment,
        with_labels=with_labels, limit=limit, cache=cache, drop_remainder=drop_remainder,
    )  # fmt: skip
    return dataset


def load_arrays(
    spec: str | os.PathLike | DatasetSpec,
    split: str = "validation",
    image_size: int = 32,
    limit: int | None = None,
    seed: int | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A whole split, preprocessed for evaluation (resize, center crop), as NumPy arrays.

    Args:
        spec: as for `load_dataset`.
        split: as for `load_dataset`.
        image_size: side of the square images.
        limit: at most this many images (the first usable ones, in the source's order).
        seed: seeds the `sample` crops (other sources are read in their fixed order).
        data_dir: as for `load_dataset`.

    Returns:
        `(images, labels)`: `uint8 (N, image_size, image_size, 3)` and `int64 (N,)`, or
        None for labels when the source has none.

    Raises:
        DatasetError: as for `load_dataset`.

    Example:
        ```python
        images, labels = load_arrays("cifar10", "validation", 32, limit=500)
        images.shape, labels.shape, images.dtype
        # ((500, 32, 32, 3), (500,), dtype('uint8'))
        ```
    """
    dataset, has_labels = _build(
        spec, split, image_size, 256, data_dir=data_dir, seed=seed, shuffle=False, augment=False,
        with_labels=True, limit=limit, cache=False, drop_remainder=False,
    )  # fmt: skip
    batches = list(dataset.as_numpy_iterator() if hasattr(dataset, "as_numpy_iterator") else dataset)
    if not batches:
        return np.zeros((0, image_size, image_size, 3), np.uint8), (np.zeros(0, np.int64) if has_labels else None)
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    return images, (labels if has_labels else None)


def class_names(spec: str | os.PathLike | DatasetSpec) -> list[str] | None:
    """The class names of a dataset's labels, or None when unknown or unlabeled.

    Args:
        spec: as for `load_dataset`.

    Returns:
        The CIFAR-10 names for `cifar10`; the label names of other TFDS datasets when TFDS
        knows them; the class folders' names for `folder:` (when there are two or more); None
        otherwise (`sample`, `npz:`, no TensorFlow).

    Example:
        ```python
        class_names("cifar10")[:3]
        # ['airplane', 'automobile', 'bird']
        ```
    """
    parsed = parse_spec(spec)
    if parsed.kind == "folder":
        from kcolor.data.folder import folder_class_names

        return folder_class_names(parsed.value) if os.path.isdir(parsed.value) else None
    if parsed.kind != "tfds":
        return None
    try:
        from kcolor.data.tfds_source import tfds_class_names
    except ImportError:
        return None
    return tfds_class_names(parsed.value)


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported (importing it the first time takes seconds).

    Returns:
        True when `import tensorflow` works; then datasets are `tf.data` pipelines.

    Example:
        ```python
        tensorflow_available()  # False on a JAX-only install
        ```
    """
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def _build(spec, split, image_size, batch_size, *, data_dir, seed, shuffle, augment, with_labels, limit, cache, drop_remainder):
    """Validate the arguments and build the dataset: `(dataset, has_labels)`."""
    parsed = parse_spec(spec)
    if limit is not None:
        check_positive_count("limit", limit)
    training = is_training_split(split)
    options = LoadOptions(
        image_size=image_size, batch_size=batch_size, seed=seed,
        shuffle=training if shuffle is None else bool(shuffle), augment=training if augment is None else bool(augment),
        with_labels=bool(with_labels), drop_remainder=bool(drop_remainder),
    )  # fmt: skip
    use_tensorflow = tensorflow_available()
    if parsed.kind == "tfds":
        if not use_tensorflow or _looks_like_path(parsed.value):
            raise unknown_dataset_error(parsed.value, tfds_missing=not use_tensorflow)
        from kcolor.data.tfds_source import tfds_dataset

        return tfds_dataset(parsed.value, split, options, data_dir=data_dir, limit=limit, cache=cache)
    sampler = local_sampler(parsed, split, options, limit=limit, cache=cache)
    from kcolor.data.numpy_pipeline import NumpyBatches

    if not use_tensorflow:
        return NumpyBatches(sampler, options), sampler.has_labels
    from kcolor.data import tf_pipeline

    if parsed.kind == "sample":  # its crops are rendered with PIL, a whole epoch's worth at a time
        return tf_pipeline.numpy_batches_dataset(NumpyBatches(sampler, options), image_size), sampler.has_labels
    return tf_pipeline.image_source_dataset(sampler, options), sampler.has_labels


def local_sampler(spec: DatasetSpec, split: str, options: LoadOptions, *, limit: int | None = None, cache: bool = True):
    """The sampler of a `sample`, `folder:` or `npz:` split: what both `load_dataset` and the training stream read.

    Folders and npz files are decoded, checked and resized here (preprocessing stage one); the
    sampler does stage two (order, crops, flips) for any epoch on demand.

    Args:
        spec: a parsed local spec.
        split: `"train"`, `"validation"` (`"val"`) or `"test"`.
        options: `image_size`, `seed`, `shuffle` and `augment` are used.
        limit: keep only the first `limit` usable images (for `sample`: crops per epoch).
        cache: keep a folder's resized images in memory (else they are re-read on each access).

    Returns:
        A `kcolor.data.sample.SampleSampler` or a `kcolor.data.numpy_pipeline.ImageSourceSampler`.

    Raises:
        DatasetError: an unknown split, or the source cannot be read or has no usable image.

    Example:
        ```python
        options = LoadOptions(32, 128, seed=0, shuffle=True, augment=True)
        sampler = local_sampler(parse_spec("folder:photos"), "train", options)
        images, labels = sampler.items(epoch=0, positions=range(8))
        ```
    """
    split = local_split(split, spec)
    if spec.kind == "sample":
        from kcolor.data.sample import SampleSampler

        return SampleSampler(split, options.image_size, count=limit, seed=options.seed, augment=options.augment)
    from kcolor.data.numpy_pipeline import ImageSourceSampler

    if spec.kind == "folder":
        from kcolor.data.folder import load_folder_source

        source = load_folder_source(spec.value, split, options.image_size, limit=limit, cache=cache)
    else:
        from kcolor.data.npz import load_npz_source

        source = load_npz_source(spec.value, split, options.image_size, limit=limit)
    return ImageSourceSampler(source, options)


def _looks_like_path(name: str) -> bool:
    """True for an existing file or folder written as a path (`./photos`, `~/x.npz`)."""
    return name.startswith((".", "~", os.sep)) and os.path.exists(os.path.expanduser(name))

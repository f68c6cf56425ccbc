"""TensorFlow Datasets sources: `cifar10` (32 px) and `places365_small` (256 px) as in the
paper, and any TFDS dataset whose `image` feature is RGB `uint8` (`tf_flowers`,
`imagenette`, ...).

Downloads go to the project's top-level `data/` folder when kcolor runs from a checkout
(`default_data_dir`), else to TFDS's own default (`$TFDS_DATA_DIR` or
`~/tensorflow_datasets`); `data_dir` overrides both. `"validation"` means the dataset's
validation split, or its test split when it has none (cifar10). kcolor decodes the images itself
(`kcolor.data.tf_pipeline.decode_image`: a JPEG at least twice the training size is decoded
at 1/2, 1/4 or 1/8 scale), resizes them, and filters grayscale and colorless images (Places365 has
some, Imagenette a few hundred), counting them; the count is reported after the first full pass.
Decoded, resized images are cached in memory when the split fits in `CACHE_BUDGET_BYTES`
(cifar10 and Imagenette do, Places365 does not). TensorFlow and TFDS are imported inside the
functions.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kcolor.data.errors import DatasetDownloadError, DatasetError
from kcolor.data.options import LoadOptions
from kcolor.data.reporting import SkipReport
from kcolor.data.spec import normalize_split, tfds_base_name, unknown_dataset_error

CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CACHE_BUDGET_BYTES = 2 * 1024**3
"""Cache a split in memory only when its resized images are estimated to fit in this."""

SHUFFLE_BUFFER_BYTES = 256 * 1024**2
"""Memory for the shuffle buffer (at most 10,000 images): 10,000 at 32 px, about 1,300 at 256 px."""

_KNOWN_SPLITS = {"cifar10": ("train", "test"), "places365_small": ("train", "validation", "test")}


def default_data_dir() -> str | None:
    """The project's `data/` folder when kcolor runs from a checkout, else None (TFDS default).

    Example:
        >>> default_data_dir()
        '/home/me/kcolor/data'
    """
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir():
        return str(root / "data")
    return None


def resolve_tfds_split(name: str, available: list[str] | tuple[str, ...], split: str) -> str:
    """Translate a kcolor split name to the dataset's own split.

    Args:
        name: the TFDS spec (its base name selects known split lists when `available` is
            empty, as before a download or under `tfds.testing.mock_data`).
        available: the dataset's split names, possibly empty when unknown.
        split: `"train"`, `"validation"` (`"val"`), `"test"`, a TFDS slice such as
            `"validation[:10%]"`, or a `+` combination (passed through).

    Returns:
        The split to read: `"validation"` falls back to `"test"` and vice versa.

    Raises:
        DatasetError: the dataset has no such split.

    Example:
        >>> resolve_tfds_split("cifar10", ["train", "test"], "validation[:50%]")
        'test[:50%]'
    """
    split = normalize_split(split)
    if "+" in split:
        return split
    base, bracket, rest = split.partition("[")
    available = tuple(available) or _KNOWN_SPLITS.get(tfds_base_name(name), ())
    if not available or base in available:
        return split
    fallback = {"validation": "test", "test": "validation"}.get(base)
    if fallback in available:
        return fallback + bracket + rest
    raise DatasetError(f"{name} has no split '{base}'; it has: {', '.join(available)}")


def tfds_dataset(
    name: str, split: str, options: LoadOptions, *, data_dir: str | os.PathLike | None, limit: int | None, cache: bool
):
    """Build the `tf.data` pipeline of a TFDS dataset (arguments as in `load_dataset`).

    Returns:
        `(dataset, has_labels)`.

    Raises:
        DatasetNotFoundError: no TFDS dataset has this name (close names are suggested).
        DatasetDownloadError: the download or preparation failed.
        DatasetError: the dataset has no RGB `uint8` `image` feature, or no such split.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from kcolor.data import tf_pipeline

    builder = tfds_builder(name, data_dir)
    label_key = _check_features(builder, name)
    try:
        builder.download_and_prepare()
    except Exception as error:  # network, quota, missing optional modules: all mean "not available"
        raise DatasetDownloadError(
            f"could not download or prepare the TFDS dataset '{name}' into {builder.data_dir} "
            f"({type(error).__name__}: {_first_line(error)}). Without internet access use the offline "
            "'sample' dataset, or your own photos with 'folder:PATH'."
        ) from error
    split_name = resolve_tfds_split(name, list(builder.info.splits.keys()), split)
    read_config = tfds.ReadConfig(shuffle_seed=options.seed)
    dataset = builder.as_dataset(
        split=split_name, shuffle_files=options.shuffle, read_config=read_config,
        decoders={"image": tfds.decode.SkipDecoding()},  # kcolor decodes: large JPEGs at a reduced scale
    )  # fmt: skip

    def image_and_label(example):
        label = tf.cast(example[label_key], tf.int64) if label_key else tf.constant(-1, tf.int64)
        image = example["image"]
        if image.dtype == tf.string:  # encoded, as SkipDecoding leaves it (a test's fake may give pixels)
            image = tf_pipeline.decode_image(image, options.image_size)
        return image, label

    dataset = dataset.map(image_and_label, num_parallel_calls=tf.data.AUTOTUNE)
    report = SkipReport(f"{name} ({split_name})")
    # Resized, checked and sized before the cache: after it, the pipeline works on whole batches.
    dataset = tf_pipeline.drop_unusable_images(dataset, report, image_size=options.image_size, limit=limit)
    bytes_per_image = options.image_size**2 * 3 * 4 // 3  # allow for non-square sources
    count = limit if limit is not None else _split_size(builder, split_name)
    if cache and count is not None and count * bytes_per_image <= CACHE_BUDGET_BYTES:
        dataset = dataset.cache()
    shuffle_buffer = min(10_000, max(64, SHUFFLE_BUFFER_BYTES // bytes_per_image)) if options.shuffle else None
    return tf_pipeline.batch_pipeline(dataset, options, shuffle_buffer=shuffle_buffer), label_key is not None


def tfds_builder(name: str, data_dir: str | os.PathLike | None):
    """`tfds.builder(name)` with kcolor's data folder and readable errors.

    Raises:
        DatasetNotFoundError: unknown name; the message suggests close TFDS names.
        DatasetError: a bad config or version.
    """
    import tensorflow_datasets as tfds

    data_dir = os.fspath(data_dir) if data_dir is not None else default_data_dir()
    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise unknown_dataset_error(name, tfds.list_builders(with_community_datasets=False)) from None
    except Exception as error:  # TFDS raises ValueError / AssertionError for bad configs and versions
        raise DatasetError(f"cannot use the TFDS dataset '{name}': {_first_line(error)}") from None


def tfds_class_names(name: str) -> list[str] | None:
    """The class names of a TFDS dataset's `label` feature, or None when unknown.

    Names known only as numbers (before the metadata is downloaded) count as unknown, except
    for cifar10 whose names are built in.
    """
    if tfds_base_name(name) == "cifar10":
        return list(CIFAR10_CLASS_NAMES)
    try:
        import tensorflow_datasets as tfds

        features = tfds.builder(name, data_dir=default_data_dir()).info.features
    except Exception:  # not installed, unknown name, bad config: no names to give
        return None
    names = getattr(features["label"], "names", None) if "label" in features else None
    if not names or list(names) == [str(index) for index in range(len(names))]:
        return None
    return list(names)


def _check_features(builder, name: str) -> str | None:
    """Check the `image` feature is RGB `uint8`; return the label feature's key or None."""
    import tensorflow_datasets as tfds

    features = builder.info.features
    image = features["image"] if "image" in features else None
    if not isinstance(image, tfds.features.Image):
        raise DatasetError(f"the TFDS dataset '{name}' has no 'image' feature, so it cannot be used for colorization")
    if image.shape[-1] != 3 or np.dtype(image.np_dtype) != np.uint8:
        raise DatasetError(
            f"the TFDS dataset '{name}' has {image.shape[-1]}-channel {np.dtype(image.np_dtype)} images; "
            "colorization needs RGB uint8 photos"
        )
    label = features["label"] if "label" in features else None
    return "label" if isinstance(label, tfds.features.ClassLabel) else None


def _split_size(builder, split_name: str) -> int | None:
    try:
        return int(builder.info.splits[split_name].num_examples) or None
    except Exception:  # unknown before preparation, or under mock data
        return None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]

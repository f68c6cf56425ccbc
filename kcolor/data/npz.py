"""`npz:PATH` datasets: images (and optional labels) stored in one NumPy `.npz` file.

The file must hold `images`, a `uint8` array of shape `(N, H, W, 3)`, and may hold
`labels`, `N` integers. The split is positional: the last `NPZ_VALIDATION_FRACTION`
of the images (rounded down, but at least one image when there are two or more) are the
validation split, the rest the training split; `"test"` means validation. Grayscale images
are skipped and counted like everywhere else. Example of writing one::

    np.savez("my_photos.npz", images=images_uint8, labels=labels)
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from kcolor.data.errors import DatasetError
from kcolor.data.preprocessing import resize_shorter_side, skip_reason
from kcolor.data.reporting import select_usable
from kcolor.data.sources import ImageSource

NPZ_VALIDATION_FRACTION = 0.1
"""Share of an npz file's images, taken from its end, that forms the validation split."""


def npz_split_range(count: int, split: str) -> range:
    """The positions of a split among `count` images (see the module docstring).

    Example:
        >>> npz_split_range(25, "train"), npz_split_range(25, "validation")
        (range(0, 23), range(23, 25))
    """
    validation_count = max(1, int(count * NPZ_VALIDATION_FRACTION)) if count >= 2 else 0
    boundary = count - validation_count
    return range(0, boundary) if split == "train" else range(boundary, count)


def load_npz_source(path: str | os.PathLike, split: str, image_size: int, *, limit: int | None = None) -> ImageSource:
    """Load and check one split of an npz dataset, resizing it for `image_size`.

    Args:
        path: the `.npz` file.
        split: `"train"`, `"validation"` or `"test"` (same as validation).
        image_size: images are resized so their shorter side has this length.
        limit: keep only the first `limit` usable images of the split.

    Returns:
        An in-memory `kcolor.data.sources.ImageSource`; labels are `-1` when the
        file has none.

    Raises:
        DatasetError: missing or unreadable file, no `images` array, wrong dtype or shape,
            labels that do not match the images, or an empty split.

    Warns:
        SkippedImagesWarning: once, with counts, when images were skipped.
    """
    description = f"npz:{path} ({split})"
    images, labels = _read_npz(os.fspath(path))
    positions = npz_split_range(len(images), split)
    if not positions:
        raise DatasetError(f"{description}: the split is empty ({len(images)} images in the file)")
    outcomes = ((position, skip_reason(images[position]), None) for position in positions)
    kept = select_usable(outcomes, description, limit=limit)
    resized = np.stack([resize_shorter_side(images[position], image_size) for position in kept])
    kept_labels = labels[kept] if labels is not None else np.full(len(kept), -1)
    return ImageSource(description, resized.__getitem__, kept_labels, has_labels=labels is not None)


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Read and validate `images` and `labels` from an npz file."""
    if not os.path.isfile(path):
        raise DatasetError(f"npz:{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            names = list(arrays.keys())
            if "images" not in names:
                raise DatasetError(
                    f"npz:{path} has no 'images' array (it has: {', '.join(names) or 'nothing'}); "
                    "save one with np.savez(path, images=uint8_array_N_H_W_3, labels=...)"
                )
            images = arrays["images"]
            labels = arrays["labels"] if "labels" in names else None
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DatasetError(f"npz:{path} cannot be read as an .npz file: {error}") from error
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise DatasetError(
            f"npz:{path}: 'images' must be uint8 with shape (N, height, width, 3); got {images.dtype} {images.shape}"
        )
    if labels is not None:
        if labels.shape != (len(images),) or labels.dtype.kind not in "iub":
            raise DatasetError(
                f"npz:{path}: 'labels' must hold one integer per image, shape ({len(images)},); got {labels.dtype} {labels.shape}"
            )
        labels = labels.astype(np.int64)
    return images, labels

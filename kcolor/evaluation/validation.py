"""Input checks shared by the evaluation tools.

Every evaluation function takes images as numpy `uint8` RGB batches of shape
`(N, H, W, 3)`, the convention used throughout kcolor. The helpers here turn
a wrong shape, dtype or label array into a `ValueError` that says what was
expected and how to fix it, instead of a confusing failure deep inside
scikit-image or Keras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Row names the reports reserve for their two reference rows.
GRAY_ROW = "gray"
TRUTH_ROW = "ground truth"


def check_images(images, name: str = "images") -> np.ndarray:
    """Checks that `images` is a uint8 RGB batch and returns it as an array.

    Args:
        images: Array-like of shape `(N, H, W, 3)` and dtype `uint8`.
        name: How to call the argument in error messages.

    Returns:
        The images as a numpy array (not copied when already one).

    Raises:
        ValueError: If the array is not 4-D with 3 channels, is empty, or is not
            `uint8`.

    Example:
        >>> check_images(np.zeros((2, 32, 32, 3), np.uint8)).shape
        (2, 32, 32, 3)
    """
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[-1] != 3:
        hint = " (for a single image use image[None])" if array.ndim == 3 else ""
        raise ValueError(f"{name} must be a batch of RGB images of shape (N, H, W, 3), got shape {array.shape}{hint}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one image is needed.")
    if array.dtype != np.uint8:
        raise ValueError(
            f"{name} must have dtype uint8 (values 0-255), got {array.dtype}; "
            "convert float images in [0, 1] with "
            "np.clip(np.round(images * 255), 0, 255).astype(np.uint8)."
        )
    return array


def check_image_pair(true_rgb, pred_rgb, pred_name: str = "pred_rgb") -> tuple[np.ndarray, np.ndarray]:
    """Checks two uint8 RGB batches that are compared image by image.

    Args:
        true_rgb: Ground-truth images, `(N, H, W, 3)` uint8.
        pred_rgb: Predicted images of the same shape.
        pred_name: How to call the predictions in error messages.

    Returns:
        `(true_rgb, pred_rgb)` as numpy arrays.

    Raises:
        ValueError: If either batch is invalid or their shapes differ.
    """
    true_rgb = check_images(true_rgb, "true_rgb")
    pred_rgb = check_images(pred_rgb, pred_name)
    if true_rgb.shape != pred_rgb.shape:
        raise ValueError(
            f"{pred_name} has shape {pred_rgb.shape} but true_rgb has shape "
            f"{true_rgb.shape}; predictions must match the ground truth image "
            "for image."
        )
    return true_rgb, pred_rgb


def check_predictions(true_rgb, predictions: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Checks a mapping of model name to predicted images against the truth.

    Args:
        true_rgb: Ground-truth images, `(N, H, W, 3)` uint8 (already checked).
        predictions: Model name to predicted images of the same shape.

    Returns:
        A plain dict of name to numpy array, in the given order.

    Raises:
        ValueError: If it is not a mapping, a name is reserved for a reference
            row, or an image batch is invalid.
    """
    if not isinstance(predictions, Mapping):
        raise ValueError(
            "predictions must be a mapping of model name to images, e.g. "
            f"{{'GAN': images}}, got {type(predictions).__name__}."
        )
    checked = {}
    for name, images in predictions.items():
        if name in (GRAY_ROW, TRUTH_ROW):
            raise ValueError(f"The name {name!r} is reserved for a reference row; rename that prediction.")
        checked[str(name)] = check_image_pair(true_rgb, images, f"predictions[{name!r}]")[1]
    return checked


def check_labels(labels, num_images: int) -> np.ndarray:
    """Checks integer class labels, one per image.

    Args:
        labels: Array-like of shape `(N,)` or `(N, 1)` of integers.
        num_images: The number of images N they belong to.

    Returns:
        The labels as a 1-D int64 array.

    Raises:
        ValueError: If the labels are not integers or their count differs from
            the number of images.
    """
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != num_images:
        raise ValueError(f"labels must have shape ({num_images},), one integer per image, got {array.shape}.")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {array.dtype}.")
    return array.astype(np.int64)


def class_name(label: int, class_names: Sequence[str] | None) -> str:
    """Returns the display name of a class label.

    Args:
        label: Integer class label.
        class_names: Optional names indexed by label.

    Returns:
        `class_names[label]` when available, else `"class <label>"`.
    """
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return f"class {label}"


def check_batch_size(batch_size: int) -> int:
    """Checks that a batch size is a positive integer.

    Raises:
        ValueError: If it is not.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)

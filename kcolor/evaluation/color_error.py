"""Color error in L*a*b*: the pixel accuracy of Nazeri et al. (2018) and the ab-error AuC of Zhang et al. (2016).

Both compare the prediction with the truth pixel by pixel in L*a*b* (`ImageComparison` converts once):

- **pixel accuracy**: the fraction of pixels whose rounded L*a*b* values are all within about 2 % of each
  channel's range of the truth;
- **AuC**: the area under the curve of the fraction of pixels whose a*b* distance to the truth is at most t,
  for t = 0..150, normalised to [0, 1].

The `*_batch` functions are the per-image metrics the reports run (`kcolor.evaluation.metrics.METRICS`); the
other functions average them over a data set.
"""

from __future__ import annotations

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, map_batches
from kcolor.evaluation.comparison import (
    AB_TOLERANCE_RATIO,
    AUC_MAX_THRESHOLD,
    ImageComparison,
    MetricSettings,
    mean_over_images,
)
from kcolor.evaluation.validation import check_image_pair


def accuracy_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    """Per-image pixel accuracy of a batch: the fraction of pixels within tolerance in rounded L*a*b*.

    Args:
        comparison: The batch of true and predicted images.
        settings: `settings.accuracy_threshold` is the L* tolerance; a*, b* get `AB_TOLERANCE_RATIO` times it.

    Returns:
        `(n,)` fractions in [0, 1].

    Example:

    ```python
    accuracy_batch(ImageComparison(truth, predicted), MetricSettings())
    ```
    """
    threshold = settings.accuracy_threshold
    tolerance = np.array([threshold, AB_TOLERANCE_RATIO * threshold, AB_TOLERANCE_RATIO * threshold], np.float32)
    difference = np.abs(np.round(comparison.true_lab) - np.round(comparison.pred_lab))
    return np.all(difference <= tolerance, axis=-1).mean(axis=(1, 2))


def ab_error_cdf_batch(comparison: ImageComparison, max_threshold: int) -> np.ndarray:
    """Fraction of each image's pixels with a*b* error <= t, for t = 0..max_threshold.

    Args:
        comparison: The batch of true and predicted images.
        max_threshold: Largest integer threshold t.

    Returns:
        `(n, max_threshold + 1)` float32 cumulative fractions.

    Example:

    ```python
    ab_error_cdf_batch(ImageComparison(truth, predicted), 150)[:, -1]   # fraction within 150
    ```
    """
    ab_difference = comparison.true_lab[..., 1:] - comparison.pred_lab[..., 1:]
    distance = np.sqrt(np.sum(np.square(ab_difference), axis=-1))
    count, num_pixels = distance.shape[0], distance[0].size
    # A pixel is within integer threshold t exactly when ceil(distance) <= t.
    steps = np.minimum(np.ceil(distance), max_threshold + 1).astype(np.int64).reshape(count, num_pixels)
    num_bins = max_threshold + 2
    offsets = steps + (np.arange(count) * num_bins)[:, None]
    histogram = np.bincount(offsets.ravel(), minlength=count * num_bins).reshape(count, num_bins)
    return np.cumsum(histogram[:, : max_threshold + 1], axis=1).astype(np.float32) / np.float32(num_pixels)


def auc_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    """Per-image area under the cumulative a*b*-error curve, normalised to [0, 1].

    Args:
        comparison: The batch of true and predicted images.
        settings: `settings.auc_max_threshold` is the largest threshold of the curve.

    Returns:
        `(n,)` areas.

    Example:

    ```python
    auc_batch(ImageComparison(truth, predicted), MetricSettings())
    ```
    """
    max_threshold = settings.auc_max_threshold
    cdf = ab_error_cdf_batch(comparison, max_threshold)
    # Trapezoidal area under the curve over [0, max_threshold], divided by its width.
    return (cdf.sum(axis=1) - 0.5 * (cdf[:, 0] + cdf[:, -1])) / max_threshold


def pixel_accuracy(true_rgb, pred_rgb, threshold: float = 2.0, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Pixel accuracy of Nazeri et al. (2018).

    Both images are converted to L*a*b* and rounded; a pixel is correct when `|ΔL| <= threshold`,
    `|Δa| <= 2.2 * threshold` and `|Δb| <= 2.2 * threshold` (about 2 % of each channel's range by default).

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        threshold: L* tolerance.
        batch_size: Images processed at a time.

    Returns:
        Fraction of correct pixels over all pixels and images, in [0, 1].

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.

    Example:

    ```python
    images = np.zeros((1, 4, 4, 3), np.uint8)
    pixel_accuracy(images, images)   # 1.0
    ```
    """
    settings = MetricSettings(accuracy_threshold=threshold)
    return mean_over_images(accuracy_batch, true_rgb, pred_rgb, settings, batch_size)


def ab_error_auc(
    true_rgb, pred_rgb, max_threshold: int = AUC_MAX_THRESHOLD, batch_size: int = DEFAULT_BATCH_SIZE
) -> float:
    """Area under the cumulative ab-error curve (Zhang et al. 2016).

    For each integer threshold t in `0..max_threshold` the fraction of pixels whose Euclidean a*b* distance to
    the truth is at most t gives a curve; its trapezoidal area divided by `max_threshold` lies in [0, 1]: 1 when
    every pixel has the right color, 0 when every pixel is off by more than `max_threshold`.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        max_threshold: Largest threshold of the sweep (150 in the paper).
        batch_size: Images processed at a time.

    Returns:
        The normalised area, mean over images.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.

    Example:

    ```python
    ab_error_auc(truth, predicted)   # 1.0 for a perfect colorization
    ```
    """
    settings = MetricSettings(auc_max_threshold=max_threshold)
    return mean_over_images(auc_batch, true_rgb, pred_rgb, settings, batch_size)


def ab_error_cdf(
    true_rgb, pred_rgb, max_threshold: int = AUC_MAX_THRESHOLD, batch_size: int = DEFAULT_BATCH_SIZE
) -> np.ndarray:
    """The cumulative ab-error curve whose area `ab_error_auc` measures.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        max_threshold: Largest threshold.
        batch_size: Images processed at a time.

    Returns:
        `(max_threshold + 1,)` float32: entry t is the fraction of all pixels whose ab distance to the truth is at
        most t.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.

    Example:

    ```python
    curve = ab_error_cdf(truth, predicted)   # plot against np.arange(151)
    ```
    """
    true_rgb, pred_rgb = check_image_pair(true_rgb, pred_rgb)
    curves = map_batches(
        lambda true_batch, pred_batch: ab_error_cdf_batch(ImageComparison(true_batch, pred_batch), max_threshold),
        true_rgb,
        pred_rgb,
        batch_size=batch_size,
    )
    return curves.mean(axis=0)

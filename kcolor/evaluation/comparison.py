"""What every per-image metric receives: a batch of true and predicted images, and the metric settings.

A per-image metric is a function `(ImageComparison, MetricSettings) -> (n,)` values. `ImageComparison` holds a
batch of ground-truth and predicted uint8 images and converts each side to L*a*b* once, however many metrics
need it; `MetricSettings` holds the parameters a whole report shares. `mean_over_images` runs such a function
over a data set batch by batch and averages it, which is how `pixel_accuracy`, `psnr` and the other public
metric functions are computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, map_batches
from kcolor.evaluation.validation import check_image_pair
from kcolor.host_lab import lab_from_rgb8

PSNR_CAP_DB = 100.0
"""PSNR reported for identical images, whose true PSNR is infinite."""

AUC_MAX_THRESHOLD = 150
"""The ab-error thresholds of the AuC run from 0 to this value (Zhang et al. 2016)."""

AB_TOLERANCE_RATIO = 2.2
"""Ratio between the a*/b* and the L* tolerance of the pixel accuracy: a*, b* span about 220 units and L* 100,
so 2.2 keeps the tolerance at about 2 % of each."""


@dataclass(frozen=True)
class MetricSettings:
    """Parameters of the metrics, shared by a whole report.

    Attributes:
        accuracy_threshold: L* tolerance of the pixel accuracy; a* and b* get `AB_TOLERANCE_RATIO` times as much.
        psnr_cap: PSNR in dB reported for identical images (and the maximum).
        auc_max_threshold: Largest ab-error threshold of the AuC.

    Example:

    ```python
    settings = MetricSettings(accuracy_threshold=1.0)   # a stricter pixel accuracy
    ```
    """

    accuracy_threshold: float = 2.0
    psnr_cap: float = PSNR_CAP_DB
    auc_max_threshold: int = AUC_MAX_THRESHOLD


class ImageComparison:
    """A batch of true and predicted images, with their L*a*b* conversions cached.

    Several metrics need L*a*b*; this object converts each side once per batch (`kcolor.host_lab`).

    Args:
        true_rgb: `(n, H, W, 3)` uint8 ground truth.
        pred_rgb: `(n, H, W, 3)` uint8 prediction.
        true_lab: Optional precomputed float32 L*a*b* of `true_rgb`.
        pred_lab: Optional precomputed float32 L*a*b* of `pred_rgb`.

    Example:

    ```python
    comparison = ImageComparison(truth, predicted)
    comparison.true_lab.shape   # truth.shape, float32
    ```
    """

    def __init__(self, true_rgb: np.ndarray, pred_rgb: np.ndarray, true_lab=None, pred_lab=None):
        self.true_rgb = true_rgb
        self.pred_rgb = pred_rgb
        if true_lab is not None:
            self.__dict__["true_lab"] = true_lab
        if pred_lab is not None:
            self.__dict__["pred_lab"] = pred_lab

    @cached_property
    def true_lab(self) -> np.ndarray:
        """Float32 L*a*b* of the ground truth."""
        return lab_from_rgb8(self.true_rgb)

    @cached_property
    def pred_lab(self) -> np.ndarray:
        """Float32 L*a*b* of the prediction."""
        return lab_from_rgb8(self.pred_rgb)


BatchMetric = Callable[[ImageComparison, MetricSettings], np.ndarray]
"""A per-image metric: `(ImageComparison, MetricSettings) -> (n,)` values for a batch of n images."""


def scores_over_images(
    batch_metric: BatchMetric,
    true_rgb,
    pred_rgb,
    settings: MetricSettings,
    batch_size: int = DEFAULT_BATCH_SIZE,
    description: str = "",
    verbose: bool = False,
) -> np.ndarray:
    """Runs a per-image metric over matching image batches.

    Args:
        batch_metric: The metric, see `BatchMetric`.
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        settings: Metric parameters.
        batch_size: Images processed at a time.
        description: Label of the progress bar.
        verbose: Whether to show a progress bar.

    Returns:
        `(N,)` float32 scores.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches, or `batch_size` is invalid.

    Example:

    ```python
    scores = scores_over_images(accuracy_batch, truth, predicted, MetricSettings())
    ```
    """
    true_rgb, pred_rgb = check_image_pair(true_rgb, pred_rgb)
    return map_batches(
        lambda true_batch, pred_batch: batch_metric(ImageComparison(true_batch, pred_batch), settings),
        true_rgb,
        pred_rgb,
        batch_size=batch_size,
        description=description,
        verbose=verbose,
    )


def mean_over_images(batch_metric: BatchMetric, true_rgb, pred_rgb, settings: MetricSettings, batch_size: int) -> float:
    """The mean over images of a per-image metric (float64 mean), see `scores_over_images`.

    Example:

    ```python
    mean_over_images(psnr_batch, truth, predicted, MetricSettings(), batch_size=256)
    ```
    """
    scores = scores_over_images(batch_metric, true_rgb, pred_rgb, settings, batch_size)
    return float(np.mean(scores, dtype=np.float64))

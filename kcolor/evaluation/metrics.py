"""Per-image colorization metrics computed on the host with numpy and scikit-image.

Implements the measures used to compare colorization models:

* **pixel accuracy** (Nazeri et al. 2018): fraction of pixels whose rounded
  L*a*b* values are all within about 2 % of each channel's range of the truth;
* **AuC** of the cumulative ab-error curve (Zhang et al. 2016);
* **PSNR** and **SSIM** on RGB (scikit-image), PSNR capped for identical images;
* **colorfulness** (Hasler & Süsstrunk 2003), which needs no ground truth.

Each metric is computed per image in float32 batches, so thousands of images
never sit in memory as float64; the dataset value is the mean over images.
:data:`METRICS` describes every metric (including FID, computed in
:mod:`kcolor.evaluation.frechet_inception`) for the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from kcolor.evaluation.artifacts import checkerboard_energy_of_lab
from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE, map_batches
from kcolor.evaluation.lab import rgb_to_lab
from kcolor.evaluation.validation import check_image_pair, check_images

#: PSNR reported for identical images, whose true PSNR is infinite.
PSNR_CAP_DB = 100.0
#: The ab-error thresholds of the AuC run from 0 to this value (Zhang et al. 2016).
AUC_MAX_THRESHOLD = 150
#: Ratio between the a*/b* and the L* tolerance of the pixel accuracy: a*, b*
#: span about 220 units and L* 100, so 2.2 keeps the tolerance at ~2 % of each.
AB_TOLERANCE_RATIO = 2.2
#: SSIM window side (scikit-image's default); smaller images use their largest odd side.
SSIM_WINDOW = 7


@dataclass(frozen=True)
class MetricSettings:
    """Parameters of the metrics, shared by a whole report.

    Attributes:
        accuracy_threshold: L* tolerance of the pixel accuracy; a* and b* get
            ``AB_TOLERANCE_RATIO`` times as much.
        psnr_cap: PSNR in dB reported for identical images (and the maximum).
        auc_max_threshold: Largest ab-error threshold of the AuC.
    """

    accuracy_threshold: float = 2.0
    psnr_cap: float = PSNR_CAP_DB
    auc_max_threshold: int = AUC_MAX_THRESHOLD


class ImageComparison:
    """A batch of true and predicted images, with their Lab conversions cached.

    Several metrics need L*a*b*; this object converts each side once per batch.

    Args:
        true_rgb: ``(n, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(n, H, W, 3)`` uint8 prediction.
        true_lab: Optional precomputed float32 Lab of ``true_rgb``.
        pred_lab: Optional precomputed float32 Lab of ``pred_rgb``.
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
        return rgb_to_lab(self.true_rgb)

    @cached_property
    def pred_lab(self) -> np.ndarray:
        """Float32 L*a*b* of the prediction."""
        return rgb_to_lab(self.pred_rgb)


def _accuracy_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    threshold = settings.accuracy_threshold
    tolerance = np.array([threshold, AB_TOLERANCE_RATIO * threshold, AB_TOLERANCE_RATIO * threshold], np.float32)
    difference = np.abs(np.round(comparison.true_lab) - np.round(comparison.pred_lab))
    return np.all(difference <= tolerance, axis=-1).mean(axis=(1, 2))


def _ab_error_cdf_batch(comparison: ImageComparison, max_threshold: int) -> np.ndarray:
    """Fraction of each image's pixels with ab error <= t, for t = 0..max_threshold."""
    ab_difference = comparison.true_lab[..., 1:] - comparison.pred_lab[..., 1:]
    distance = np.sqrt(np.sum(np.square(ab_difference), axis=-1))
    count, num_pixels = distance.shape[0], distance[0].size
    # A pixel is within integer threshold t exactly when ceil(distance) <= t.
    steps = np.minimum(np.ceil(distance), max_threshold + 1).astype(np.int64).reshape(count, num_pixels)
    num_bins = max_threshold + 2
    offsets = steps + (np.arange(count) * num_bins)[:, None]
    histogram = np.bincount(offsets.ravel(), minlength=count * num_bins).reshape(count, num_bins)
    return np.cumsum(histogram[:, : max_threshold + 1], axis=1).astype(np.float32) / np.float32(num_pixels)


def _auc_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    max_threshold = settings.auc_max_threshold
    cdf = _ab_error_cdf_batch(comparison, max_threshold)
    # Trapezoidal area under the curve over [0, max_threshold], divided by its width.
    return (cdf.sum(axis=1) - 0.5 * (cdf[:, 0] + cdf[:, -1])) / max_threshold


def _psnr_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    with np.errstate(divide="ignore"):
        values = [
            peak_signal_noise_ratio(true_image, pred_image, data_range=255)
            for true_image, pred_image in zip(comparison.true_rgb, comparison.pred_rgb)
        ]
    return np.minimum(np.asarray(values, np.float64), settings.psnr_cap)


def ssim_window(height: int, width: int) -> int:
    """Returns the SSIM window side used for images of this size.

    Args:
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        ``SSIM_WINDOW`` (7) or, for smaller images, their largest odd side.

    Raises:
        ValueError: If the images are smaller than 3 pixels on a side.
    """
    side = min(height, width, SSIM_WINDOW)
    window = side if side % 2 else side - 1
    if window < 3:
        raise ValueError(f"SSIM needs images of at least 3x3 pixels, got {height}x{width}.")
    return window


def _ssim_batch(comparison: ImageComparison, settings: MetricSettings) -> np.ndarray:
    window = ssim_window(*comparison.true_rgb.shape[1:3])
    return np.array(
        [
            structural_similarity(true_image, pred_image, data_range=255, channel_axis=-1, win_size=window)
            for true_image, pred_image in zip(comparison.true_rgb, comparison.pred_rgb)
        ]
    )


def _colorfulness_batch(images: np.ndarray) -> np.ndarray:
    rgb = images.astype(np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red_green = (red - green).reshape(len(images), -1)
    yellow_blue = (0.5 * (red + green) - blue).reshape(len(images), -1)
    spread = np.sqrt(red_green.var(axis=1) + yellow_blue.var(axis=1))
    mean = np.sqrt(red_green.mean(axis=1) ** 2 + yellow_blue.mean(axis=1) ** 2)
    return spread + 0.3 * mean


@dataclass(frozen=True)
class Metric:
    """Description of one metric for the reports.

    Attributes:
        key: Short name used in dicts and JSON (``"psnr"``).
        title: Column title in tables (``"PSNR (dB)"``).
        description: One sentence for the Markdown report.
        higher_is_better: True or False, or None when neither (colorfulness).
        compares_with_truth: False for metrics of the prediction alone.
        compute: Per-batch function ``(ImageComparison, MetricSettings) ->
            (n,)`` values, or None for metrics computed elsewhere (FID, the
            judge's).
        value_format: ``str.format`` pattern for tables (``"{:.2f}"``).
        per_image: Whether the metric has a value per image (and so per
            class); False for dataset-level metrics (FID, gap closed).
    """

    key: str
    title: str
    description: str
    higher_is_better: bool | None
    compares_with_truth: bool
    compute: Callable[[ImageComparison, MetricSettings], np.ndarray] | None
    value_format: str = "{:.3f}"
    per_image: bool = True

    def format(self, value: float | None) -> str:
        """Formats a value for a table; ``None`` (not computed) or nan becomes ``"–"``."""
        return "–" if value is None or value != value else self.value_format.format(value)

    @property
    def heading(self) -> str:
        """The title with ``↑`` (higher is better) or ``↓`` after it, as in papers."""
        arrow = {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]
        return self.title + arrow


#: All metrics the reports know, in report column order.
METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        Metric(
            key="accuracy",
            title="Accuracy",
            description="fraction of pixels whose rounded L*a*b* values are all within about 2 % of each "
            "channel's range of the truth (Nazeri et al. 2018)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=_accuracy_batch,
            value_format="{:.1%}",
        ),
        Metric(
            key="auc",
            title="AuC",
            description="area under the curve of the fraction of pixels within ab distance t of the truth, "
            "t = 0..150, normalised to [0, 1] (Zhang et al. 2016)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=_auc_batch,
        ),
        Metric(
            key="psnr",
            title="PSNR (dB)",
            description="peak signal-to-noise ratio on RGB per image, capped for identical images "
            f"({PSNR_CAP_DB:g} dB by default)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=_psnr_batch,
            value_format="{:.2f}",
        ),
        Metric(
            key="ssim",
            title="SSIM",
            description="structural similarity on RGB per image (scikit-image, 7x7 window)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=_ssim_batch,
        ),
        Metric(
            key="colorfulness",
            title="Colorfulness",
            description="Hasler & Süsstrunk (2003) colourfulness of the images alone; compare with the "
            "ground-truth row",
            higher_is_better=None,
            compares_with_truth=False,
            compute=lambda comparison, settings: _colorfulness_batch(comparison.pred_rgb),
            value_format="{:.1f}",
        ),
        Metric(
            key="checkerboard",
            title="Checkerboard",
            description="root-mean-square 2x2 diagonal detail of a*b*, the pattern transposed convolutions print "
            "(kcolor.evaluation.artifacts); compare with the ground-truth row",
            higher_is_better=None,
            compares_with_truth=False,
            compute=lambda comparison, settings: checkerboard_energy_of_lab(comparison.pred_lab),
            value_format="{:.2f}",
        ),
        Metric(
            key="fid",
            title="FID",
            description="Fréchet Inception Distance between the images and the ground truth "
            "(InceptionV3 pool features)",
            higher_is_better=False,
            compares_with_truth=True,
            compute=None,
            value_format="{:.2f}",
            per_image=False,
        ),
        Metric(
            key="judge",
            title="Judge accuracy",
            description="top-1 accuracy of a classifier trained on color photos on the images: semantic "
            "interpretability (Zhang et al. 2016; kcolor.evaluation.judge)",
            higher_is_better=True,
            compares_with_truth=False,
            compute=None,
            value_format="{:.1%}",
        ),
        Metric(
            key="judge_gap",
            title="Gap closed",
            description="share of the judge's gray-to-truth accuracy gap that the row closes: 0 % is as "
            "recognisable as gray, 100 % as the real photos",
            higher_is_better=True,
            compares_with_truth=False,
            compute=None,
            value_format="{:.0%}",
            per_image=False,
        ),
    )
}


def get_metric(key: str) -> Metric:
    """Returns the :class:`Metric` called ``key``.

    Raises:
        ValueError: If there is no such metric.
    """
    if key not in METRICS:
        raise ValueError(f"Unknown metric {key!r}; choose from {', '.join(METRICS)}.")
    return METRICS[key]


def per_image_scores(
    metric: str,
    true_rgb: np.ndarray,
    pred_rgb: np.ndarray,
    settings: MetricSettings | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    verbose: bool = False,
) -> np.ndarray:
    """Computes a metric for every image, batch by batch.

    Args:
        metric: Key of a per-image metric (any of :data:`METRICS` but ``"fid"``).
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        settings: Metric parameters; defaults to :class:`MetricSettings()`.
        batch_size: Images processed at a time.
        verbose: Whether to show a progress bar.

    Returns:
        ``(N,)`` float32 scores.

    Raises:
        ValueError: For an unknown or dataset-level metric, or invalid images.

    Example:
        >>> images = np.zeros((2, 8, 8, 3), np.uint8)
        >>> per_image_scores("accuracy", images, images)
        array([1., 1.], dtype=float32)
    """
    definition = get_metric(metric)
    if definition.compute is None:
        raise ValueError(f"{metric!r} is a data-set metric with no per-image values.")
    true_rgb, pred_rgb = check_image_pair(true_rgb, pred_rgb)
    settings = settings or MetricSettings()
    return map_batches(
        lambda true_batch, pred_batch: definition.compute(ImageComparison(true_batch, pred_batch), settings),
        true_rgb,
        pred_rgb,
        batch_size=batch_size,
        description=definition.title,
        verbose=verbose,
    )


def _mean_score(metric: str, true_rgb, pred_rgb, batch_size: int, **settings) -> float:
    scores = per_image_scores(metric, true_rgb, pred_rgb, MetricSettings(**settings), batch_size)
    return float(np.mean(scores, dtype=np.float64))


def pixel_accuracy(true_rgb, pred_rgb, threshold: float = 2.0, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Pixel accuracy of Nazeri et al. (2018).

    Both images are converted to L*a*b* and rounded; a pixel is correct when
    ``|ΔL| <= threshold``, ``|Δa| <= 2.2 * threshold`` and
    ``|Δb| <= 2.2 * threshold`` (about 2 % of each channel's range by default).

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        threshold: L* tolerance.
        batch_size: Images processed at a time.

    Returns:
        Fraction of correct pixels over all pixels and images, in [0, 1].

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.

    Example:
        >>> images = np.zeros((1, 4, 4, 3), np.uint8)
        >>> pixel_accuracy(images, images)
        1.0
    """
    return _mean_score("accuracy", true_rgb, pred_rgb, batch_size, accuracy_threshold=threshold)


def ab_error_auc(
    true_rgb, pred_rgb, max_threshold: int = AUC_MAX_THRESHOLD, batch_size: int = DEFAULT_BATCH_SIZE
) -> float:
    """Area under the cumulative ab-error curve (Zhang et al. 2016).

    For each integer threshold t in ``0..max_threshold`` the fraction of pixels
    whose Euclidean a*b* distance to the truth is at most t gives a curve; its
    trapezoidal area divided by ``max_threshold`` lies in [0, 1]: 1 when every
    pixel has the right colour, 0 when every pixel is off by more than
    ``max_threshold``.

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        max_threshold: Largest threshold of the sweep (150 in the paper).
        batch_size: Images processed at a time.

    Returns:
        The normalised area, mean over images.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.
    """
    return _mean_score("auc", true_rgb, pred_rgb, batch_size, auc_max_threshold=max_threshold)


def ab_error_cdf(
    true_rgb, pred_rgb, max_threshold: int = AUC_MAX_THRESHOLD, batch_size: int = DEFAULT_BATCH_SIZE
) -> np.ndarray:
    """The cumulative ab-error curve whose area :func:`ab_error_auc` measures.

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        max_threshold: Largest threshold.
        batch_size: Images processed at a time.

    Returns:
        ``(max_threshold + 1,)`` float32: entry t is the fraction of all pixels
        whose ab distance to the truth is at most t.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.
    """
    true_rgb, pred_rgb = check_image_pair(true_rgb, pred_rgb)
    curves = map_batches(
        lambda true_batch, pred_batch: _ab_error_cdf_batch(ImageComparison(true_batch, pred_batch), max_threshold),
        true_rgb,
        pred_rgb,
        batch_size=batch_size,
    )
    return curves.mean(axis=0)


def psnr(true_rgb, pred_rgb, cap: float = PSNR_CAP_DB, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean per-image PSNR on RGB with ``data_range=255``.

    Identical images have an infinite PSNR; each image's value is capped at
    ``cap`` dB (100 by default) so the mean stays finite.

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        cap: Maximum per-image PSNR in dB.
        batch_size: Images processed at a time.

    Returns:
        Mean PSNR in dB.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches.
    """
    return _mean_score("psnr", true_rgb, pred_rgb, batch_size, psnr_cap=cap)


def ssim(true_rgb, pred_rgb, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean per-image SSIM on RGB (scikit-image, ``data_range=255``).

    The window is 7x7 (smaller images use their largest odd side, see
    :func:`ssim_window`), so 16 and 32 pixel images work.

    Args:
        true_rgb: ``(N, H, W, 3)`` uint8 ground truth.
        pred_rgb: ``(N, H, W, 3)`` uint8 predictions.
        batch_size: Images processed at a time.

    Returns:
        Mean SSIM, 1 for identical images.

    Raises:
        ValueError: If the images are not matching uint8 RGB batches or smaller
            than 3x3.
    """
    return _mean_score("ssim", true_rgb, pred_rgb, batch_size)


def colorfulness_per_image(images, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Colourfulness M of Hasler & Süsstrunk (2003) for every image.

    With ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over an image's pixels,
    ``M = sqrt(σ_rg² + σ_yb²) + 0.3 * sqrt(μ_rg² + μ_yb²)`` (population
    standard deviations, RGB in 0-255).

    Args:
        images: ``(N, H, W, 3)`` uint8 RGB.
        batch_size: Images processed at a time.

    Returns:
        ``(N,)`` float32, 0 for gray images.

    Raises:
        ValueError: If ``images`` is not a uint8 RGB batch.
    """
    images = check_images(images)
    return map_batches(_colorfulness_batch, images, batch_size=batch_size)


def colorfulness(images, batch_size: int = DEFAULT_BATCH_SIZE) -> float:
    """Mean colourfulness over images, see :func:`colorfulness_per_image`.

    Example:
        >>> colorfulness(np.full((1, 4, 4, 3), 128, np.uint8))
        0.0
    """
    return float(np.mean(colorfulness_per_image(images, batch_size), dtype=np.float64))

"""The registry of colorization metrics: what each one measures and how the reports show it.

The measures themselves live in one module per idea, all computed per image in float32 batches on the host
(thousands of images never sit in memory as float64; the data-set value is the mean over images):

- `kcolor.evaluation.color_error`: pixel accuracy (Nazeri et al. 2018) and the ab-error AuC (Zhang et al. 2016)
  in L*a*b*;
- `kcolor.evaluation.rgb_fidelity`: PSNR (capped for identical images) and SSIM on RGB (scikit-image);
- `kcolor.evaluation.colorfulness_metric`: colorfulness (Hasler & Süsstrunk 2003), which needs no ground truth;
- `kcolor.evaluation.artifacts`: the checkerboard energy of a*b*;
- `kcolor.evaluation.frechet_inception` (FID) and `kcolor.evaluation.judge` (semantic interpretability), which
  are data-set level or need a model.

`METRICS` describes every one of them for the reports, and `per_image_scores` runs a per-image metric by key.
The functions and classes that used to be defined here are re-exported, so `kcolor.evaluation.metrics.psnr`
and the like keep working.

Example:

```python
scores = per_image_scores("accuracy", truth, predicted)   # (N,) float32
METRICS["psnr"].heading                                     # "PSNR (dB) ↑"
```
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kcolor.evaluation.artifacts import checkerboard_energy_of_lab
from kcolor.evaluation.batching import DEFAULT_BATCH_SIZE
from kcolor.evaluation.color_error import (
    ab_error_auc,
    ab_error_cdf,
    accuracy_batch,
    auc_batch,
    pixel_accuracy,
)
from kcolor.evaluation.colorfulness_metric import colorfulness, colorfulness_batch, colorfulness_per_image
from kcolor.evaluation.comparison import (
    AB_TOLERANCE_RATIO,
    AUC_MAX_THRESHOLD,
    PSNR_CAP_DB,
    BatchMetric,
    ImageComparison,
    MetricSettings,
    scores_over_images,
)
from kcolor.evaluation.rgb_fidelity import SSIM_WINDOW, psnr, psnr_batch, ssim, ssim_batch, ssim_window

# The pixel accuracy's per-batch function under its former name (notebooks/03_evaluation.ipynb shows its source).
_accuracy_batch = accuracy_batch

__all__ = [
    "AB_TOLERANCE_RATIO",
    "AUC_MAX_THRESHOLD",
    "METRICS",
    "PSNR_CAP_DB",
    "SSIM_WINDOW",
    "ImageComparison",
    "Metric",
    "MetricSettings",
    "ab_error_auc",
    "ab_error_cdf",
    "colorfulness",
    "colorfulness_per_image",
    "get_metric",
    "per_image_scores",
    "pixel_accuracy",
    "psnr",
    "ssim",
    "ssim_window",
]


@dataclass(frozen=True)
class Metric:
    """Description of one metric for the reports.

    Attributes:
        key: Short name used in dicts and JSON (`"psnr"`).
        title: Column title in tables (`"PSNR (dB)"`).
        description: One sentence for the Markdown report.
        higher_is_better: True or False, or None when neither (colorfulness).
        compares_with_truth: False for metrics of the prediction alone.
        compute: Per-batch function `(ImageComparison, MetricSettings) -> (n,)` values (a `BatchMetric`), or
            None for metrics computed elsewhere (FID, the judge's).
        value_format: `str.format` pattern for tables (`"{:.2f}"`).
        per_image: Whether the metric has a value per image (and so per class); False for data-set level
            metrics (FID, gap closed).

    Example:

    ```python
    METRICS["accuracy"].format(0.625)   # "62.5%"
    ```
    """

    key: str
    title: str
    description: str
    higher_is_better: bool | None
    compares_with_truth: bool
    compute: BatchMetric | None
    value_format: str = "{:.3f}"
    per_image: bool = True

    def format(self, value: float | None) -> str:
        """Formats a value for a table; `None` (not computed) or nan becomes `"–"`."""
        return "–" if value is None or value != value else self.value_format.format(value)

    @property
    def heading(self) -> str:
        """The title with `↑` (higher is better) or `↓` after it, as in papers."""
        arrow = {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]
        return self.title + arrow


# All metrics the reports know, in report column order.
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
            compute=accuracy_batch,
            value_format="{:.1%}",
        ),
        Metric(
            key="auc",
            title="AuC",
            description="area under the curve of the fraction of pixels within ab distance t of the truth, "
            "t = 0..150, normalised to [0, 1] (Zhang et al. 2016)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=auc_batch,
        ),
        Metric(
            key="psnr",
            title="PSNR (dB)",
            description="peak signal-to-noise ratio on RGB per image, capped for identical images "
            f"({PSNR_CAP_DB:g} dB by default)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=psnr_batch,
            value_format="{:.2f}",
        ),
        Metric(
            key="ssim",
            title="SSIM",
            description="structural similarity on RGB per image (scikit-image, 7x7 window)",
            higher_is_better=True,
            compares_with_truth=True,
            compute=ssim_batch,
        ),
        Metric(
            key="colorfulness",
            title="Colorfulness",
            description="Hasler & Süsstrunk (2003) colourfulness of the images alone; compare with the "
            "ground-truth row",
            higher_is_better=None,
            compares_with_truth=False,
            compute=lambda comparison, settings: colorfulness_batch(comparison.pred_rgb),
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
        Metric(
            key="judge_probability",
            title="Right-class probability",
            description="the mean probability the judge gives each image's true class: its accuracy if it "
            "answered by drawing from its beliefs, which moves with every image, not only those crossing its "
            "decision boundary",
            higher_is_better=True,
            compares_with_truth=False,
            compute=None,
            value_format="{:.1%}",
        ),
        Metric(
            key="judge_probability_gap",
            title="Gap closed (probability)",
            description="share of the gray-to-truth gap in the right-class probability that the row closes",
            higher_is_better=True,
            compares_with_truth=False,
            compute=None,
            value_format="{:.0%}",
            per_image=False,
        ),
    )
}


def get_metric(key: str) -> Metric:
    """Returns the `Metric` called `key`.

    Args:
        key: A key of `METRICS`, e.g. `"psnr"`.

    Returns:
        The metric's description.

    Raises:
        ValueError: If there is no such metric.

    Example:

    ```python
    get_metric("auc").higher_is_better   # True
    ```
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
        metric: Key of a per-image metric (any of `METRICS` but the data-set level ones such as `"fid"`).
        true_rgb: `(N, H, W, 3)` uint8 ground truth.
        pred_rgb: `(N, H, W, 3)` uint8 predictions.
        settings: Metric parameters; defaults to `MetricSettings()`.
        batch_size: Images processed at a time.
        verbose: Whether to show a progress bar.

    Returns:
        `(N,)` float32 scores.

    Raises:
        ValueError: For an unknown or dataset-level metric, or invalid images.

    Example:

    ```python
    images = np.zeros((2, 8, 8, 3), np.uint8)
    per_image_scores("accuracy", images, images)   # array([1., 1.], dtype=float32)
    ```
    """
    definition = get_metric(metric)
    if definition.compute is None:
        raise ValueError(f"{metric!r} is a data-set metric with no per-image values.")
    settings = settings or MetricSettings()
    return scores_over_images(
        definition.compute, true_rgb, pred_rgb, settings, batch_size, description=definition.title, verbose=verbose
    )

"""Evaluation of colorization models: metrics, reports, figures and a Turing test.

Everything works on NumPy `uint8` RGB batches `(N, H, W, 3)`. The metrics follow the papers the project
reproduces: pixel accuracy of Nazeri et al. (2018), the ab-error AuC of Zhang et al. (2016), PSNR, SSIM,
colorfulness (Hasler & Süsstrunk 2003) and FID. A report always shows two reference rows, *gray* (no color) and
*ground truth* (perfect), around the models. Importing this package does not import TensorFlow or Keras (its
L*a*b* math is `kcolor.host_lab`, in NumPy); FID and model evaluation import Keras when called.

Example:

```python
from kcolor.evaluation import evaluate_predictions, write_report
report = evaluate_predictions(truth, {"L1-only U-Net": l1, "GAN": gan}, labels=labels, class_names=names)
write_report(report, "runs/eval", truth, {"L1-only U-Net": l1, "GAN": gan})
```
"""

from kcolor.evaluation.curves import loss_curves, read_history
from kcolor.evaluation.frechet_inception import (
    FIDUnavailableError,
    InceptionFeatures,
    fid,
    fid_from_features,
    frechet_distance,
)
from kcolor.evaluation.grids import best_and_worst, comparison_grid
from kcolor.evaluation.histograms import ab_histogram, ab_histograms
from kcolor.evaluation.lab import gray_reference, rgb_to_lab
from kcolor.evaluation.metrics import (
    METRICS,
    PSNR_CAP_DB,
    MetricSettings,
    ab_error_auc,
    ab_error_cdf,
    colorfulness,
    colorfulness_per_image,
    per_image_scores,
    pixel_accuracy,
    psnr,
    ssim,
)
from kcolor.evaluation.report import DEFAULT_METRICS, Report, evaluate_generator, evaluate_predictions, predict_all
from kcolor.evaluation.report_writer import write_report
from kcolor.evaluation.turing import FoolRate, TuringTest, wilson_interval
from kcolor.evaluation.turing_interfaces import TuringWidget, play_in_text, play_turing_test
from kcolor.evaluation.validation import GRAY_ROW, TRUTH_ROW

__all__ = [
    "DEFAULT_METRICS",
    "FIDUnavailableError",
    "FoolRate",
    "GRAY_ROW",
    "InceptionFeatures",
    "METRICS",
    "MetricSettings",
    "PSNR_CAP_DB",
    "Report",
    "TRUTH_ROW",
    "TuringTest",
    "TuringWidget",
    "ab_error_auc",
    "ab_error_cdf",
    "ab_histogram",
    "ab_histograms",
    "best_and_worst",
    "colorfulness",
    "colorfulness_per_image",
    "comparison_grid",
    "evaluate_generator",
    "evaluate_predictions",
    "fid",
    "fid_from_features",
    "frechet_distance",
    "gray_reference",
    "loss_curves",
    "per_image_scores",
    "pixel_accuracy",
    "play_in_text",
    "play_turing_test",
    "predict_all",
    "psnr",
    "read_history",
    "rgb_to_lab",
    "ssim",
    "wilson_interval",
    "write_report",
]

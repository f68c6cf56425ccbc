"""Known-answer tests of the per-image colorization metrics (kcolor.evaluation.metrics)."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from kcolor.evaluation import (
    PSNR_CAP_DB,
    ab_error_auc,
    ab_error_cdf,
    colorfulness,
    colorfulness_per_image,
    gray_reference,
    per_image_scores,
    pixel_accuracy,
    psnr,
    ssim,
)
from kcolor.evaluation.metrics import METRICS, ImageComparison, MetricSettings, ssim_window


def lab_comparison(true_lab, pred_lab):
    """A comparison of exact Lab values (the RGB images are unused placeholders)."""
    placeholder = np.zeros(true_lab.shape, np.uint8)
    return ImageComparison(placeholder, placeholder, true_lab=np.float32(true_lab), pred_lab=np.float32(pred_lab))


def uniform_lab(lightness, a, b, shape=(1, 4, 4)):
    return np.broadcast_to(np.array([lightness, a, b], np.float32), shape + (3,)).copy()


def test_identical_images_score_perfectly(photos):
    assert pixel_accuracy(photos, photos) == 1.0
    assert psnr(photos, photos) == PSNR_CAP_DB
    assert ssim(photos, photos) == pytest.approx(1.0, abs=1e-6)
    assert ab_error_auc(photos, photos) == 1.0
    np.testing.assert_array_equal(ab_error_cdf(photos, photos), np.ones(151, np.float32))


def test_psnr_cap_is_configurable(photos):
    assert psnr(photos, photos, cap=60.0) == 60.0


def test_one_pixel_shifted_far_costs_exactly_one_pixel():
    truth = np.full((3, 16, 16, 3), 128, np.uint8)
    predicted = truth.copy()
    predicted[1, 5, 7] = (128, 128, 255)  # a blue pixel on gray: |Δb| is far beyond 4.4
    assert pixel_accuracy(truth, predicted) == 1.0 - 1.0 / (3 * 16 * 16)
    np.testing.assert_array_equal(per_image_scores("accuracy", truth, predicted), [1.0, 1.0 - 1.0 / 256, 1.0])


def test_one_pixel_shifted_slightly_stays_correct():
    truth = np.full((2, 16, 16, 3), 128, np.uint8)
    predicted = truth.copy()
    predicted[0, 3, 3] = (129, 128, 128)  # one RGB level: well within 2 L* and 4.4 a*/b*
    assert pixel_accuracy(truth, predicted) == 1.0


@pytest.mark.parametrize(
    ("pred_lab", "correct"),
    [
        ((52.0, 0.0, 0.0), True),  # |ΔL| = 2 = threshold
        ((52.4, 0.0, 0.0), True),  # rounds to 52
        ((52.6, 0.0, 0.0), False),  # rounds to 53
        ((50.0, 4.0, -4.0), True),  # |Δa| = |Δb| = 4 <= 4.4
        ((50.0, 5.0, 0.0), False),  # |Δa| = 5 > 4.4
        ((50.0, 0.0, -5.0), False),
    ],
)
def test_pixel_accuracy_thresholds_on_rounded_lab(pred_lab, correct):
    comparison = lab_comparison(uniform_lab(50.0, 0.0, 0.0), uniform_lab(*pred_lab))
    accuracy = METRICS["accuracy"].compute(comparison, MetricSettings())
    np.testing.assert_array_equal(accuracy, [1.0 if correct else 0.0])


def test_pixel_accuracy_threshold_scales_all_channels():
    comparison = lab_comparison(uniform_lab(50.0, 0.0, 0.0), uniform_lab(54.0, 8.0, -8.0))
    assert METRICS["accuracy"].compute(comparison, MetricSettings(accuracy_threshold=2.0))[0] == 0.0
    assert METRICS["accuracy"].compute(comparison, MetricSettings(accuracy_threshold=4.0))[0] == 1.0


def test_auc_of_a_constant_ab_error_has_the_trapezoid_value():
    # Every pixel is 30 away in ab: the CDF is 0 below t = 30 and 1 from t = 30 to 150.
    comparison = lab_comparison(uniform_lab(50.0, 0.0, 0.0), uniform_lab(50.0, 18.0, 24.0))
    auc = METRICS["auc"].compute(comparison, MetricSettings())
    assert auc[0] == pytest.approx((121 - 0.5) / 150, abs=1e-6)


def test_auc_is_zero_when_every_colour_is_far_off():
    green = np.full((2, 8, 8, 3), (0, 255, 0), np.uint8)
    magenta = np.full((2, 8, 8, 3), (255, 0, 255), np.uint8)  # ab distance ~ 200 > 150
    assert ab_error_auc(green, magenta) == 0.0


def test_auc_is_bounded_and_decreases_with_the_error(photos):
    gray = gray_reference(photos)
    values = []
    for weight in (0.0, 0.3, 0.6, 1.0):
        blended = np.round((1 - weight) * photos + weight * gray).astype(np.uint8)
        values.append(ab_error_auc(photos, blended))
    assert all(0.0 <= value <= 1.0 for value in values)
    assert values[0] == 1.0
    assert all(later < earlier for earlier, later in zip(values, values[1:]))
    random_prediction = np.random.default_rng(0).integers(0, 256, photos.shape, dtype=np.uint8)
    assert 0.0 <= ab_error_auc(photos, random_prediction) <= values[-1]


def test_colorfulness_hand_computed():
    # rg = [100, 0]: μ = 50, σ = 50; yb = [50, 0]: μ = 25, σ = 25.
    # M = sqrt(50² + 25²) + 0.3 * sqrt(50² + 25²) = 1.3 * sqrt(3125).
    image = np.array([[[[100, 0, 0], [0, 0, 0]]]], np.uint8)
    assert colorfulness(image) == pytest.approx(1.3 * np.sqrt(3125.0), rel=1e-6)


def test_colorfulness_of_gray_images_is_zero():
    levels = np.arange(0, 256, 16, dtype=np.uint8)
    gray = np.repeat(np.broadcast_to(levels, (2, 16, 16))[..., None], 3, axis=-1)
    assert colorfulness(gray) == 0.0
    np.testing.assert_array_equal(colorfulness_per_image(gray), [0.0, 0.0])


def test_batching_does_not_change_results(photos):
    noisy = np.clip(photos.astype(int) + np.random.default_rng(1).integers(-20, 21, photos.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    for metric in ("accuracy", "auc", "psnr", "ssim"):
        np.testing.assert_allclose(
            per_image_scores(metric, photos, noisy, batch_size=3),
            per_image_scores(metric, photos, noisy, batch_size=100),
            rtol=1e-6,
        )


def test_psnr_matches_scikit_image_per_image_mean(photos):
    noisy = np.clip(photos.astype(int) + 9, 0, 255).astype(np.uint8)
    expected = np.mean([peak_signal_noise_ratio(a, b, data_range=255) for a, b in zip(photos, noisy)])
    assert psnr(photos, noisy) == pytest.approx(expected, rel=1e-6)


def test_ssim_window_fits_small_images():
    assert ssim_window(32, 32) == 7
    assert ssim_window(5, 6) == 5
    assert ssim_window(4, 16) == 3
    tiny = np.random.default_rng(2).integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
    assert ssim(tiny, tiny) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 3x3"):
        ssim_window(2, 8)


def test_invalid_inputs_raise_helpful_value_errors(photos):
    with pytest.raises(ValueError, match="shape"):
        pixel_accuracy(photos, photos[:, :16])
    with pytest.raises(ValueError, match="uint8"):
        psnr(photos, photos.astype(np.float32) / 255)
    with pytest.raises(ValueError, match=r"image\[None\]"):
        colorfulness(photos[0])
    with pytest.raises(ValueError, match="Unknown metric"):
        per_image_scores("sharpness", photos, photos)
    with pytest.raises(ValueError, match="data-set metric"):
        per_image_scores("fid", photos, photos)
    with pytest.raises(ValueError, match="batch_size"):
        pixel_accuracy(photos, photos, batch_size=0)


def test_metrics_work_without_tensorflow_or_keras(run_python):
    run_python(
        """
        import sys
        import numpy as np
        import kcolor.evaluation as evaluation
        images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
        report = evaluation.evaluate_predictions(
            images, {"same": images}, metrics=("accuracy", "auc", "psnr", "ssim", "colorfulness"), verbose=False
        )
        assert report.overall["same"]["accuracy"] == 1.0
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported a deep-learning framework"
        """,
        block_tensorflow=True,
    )


def test_names_moved_out_of_metrics_report_and_judge_stay_importable_there():
    from kcolor.evaluation import color_error, colorfulness_metric, comparison, judge, judge_training, metrics
    from kcolor.evaluation import report, report_tables, rgb_fidelity, semantic_judge

    moved = {
        metrics: (comparison, ("ImageComparison", "MetricSettings", "PSNR_CAP_DB", "AUC_MAX_THRESHOLD")),
        report: (report_tables, ("Report",)),
        judge: (semantic_judge, ("SemanticJudge", "load_judge", "imagenet_judge", "judge_from_spec")),
    }
    for old, (new, names) in moved.items():
        for name in names:
            assert getattr(old, name) is getattr(new, name), (old.__name__, name)
    assert metrics.pixel_accuracy is color_error.pixel_accuracy and metrics.psnr is rgb_fidelity.psnr
    assert metrics.ssim_window is rgb_fidelity.ssim_window and metrics.colorfulness is colorfulness_metric.colorfulness
    assert metrics._accuracy_batch is color_error.accuracy_batch  # notebooks/03_evaluation.ipynb shows its source
    assert judge.train_judge is judge_training.train_judge
    assert judge.build_judge_classifier is judge_training.build_judge_classifier

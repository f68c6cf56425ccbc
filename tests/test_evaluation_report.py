"""Reports: reference rows, independent checks of their values, per-class splits, files written."""

import json

import numpy as np
import pytest
from skimage import color
from skimage.metrics import peak_signal_noise_ratio

from kcolor.evaluation import (
    PSNR_CAP_DB,
    colorfulness,
    evaluate_generator,
    evaluate_predictions,
    pixel_accuracy,
    ssim,
    write_report,
)

PER_IMAGE_METRICS = ("accuracy", "auc", "psnr", "ssim", "colorfulness")


def noisy_copy(images, amplitude=12, seed=3):
    noise = np.random.default_rng(seed).integers(-amplitude, amplitude + 1, images.shape)
    return np.clip(images.astype(int) + noise, 0, 255).astype(np.uint8)


def gray_by_hand(images):
    """The gray reference computed independently: float64 scikit-image, a = b = 0."""
    lab = color.rgb2lab(images)
    lab[..., 1:] = 0.0
    return np.clip(np.round(color.lab2rgb(lab) * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def report_and_data(photos):
    predictions = {"noisy": noisy_copy(photos, amplitude=4), "gray again": gray_by_hand(photos)}
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 0])
    report = evaluate_predictions(
        photos,
        predictions,
        labels=labels,
        class_names=["cat", "dog"],
        metrics=PER_IMAGE_METRICS + ("fid",),
        fid_weights=None,
        fid_image_size=75,
        batch_size=3,
        verbose=False,
    )
    return report, photos, predictions, labels


def test_rows_run_from_gray_through_models_to_ground_truth(report_and_data):
    report, *_ = report_and_data
    assert report.rows == ["gray", "noisy", "gray again", "ground truth"]
    assert report.model_rows == ["noisy", "gray again"]
    assert report.metrics == list(PER_IMAGE_METRICS) + ["fid"]
    assert report.num_images == 8 and report.image_shape == (32, 32)


def test_ground_truth_row_is_perfect(report_and_data):
    report, photos, _, _ = report_and_data
    truth = report.overall["ground truth"]
    assert truth["accuracy"] == 1.0
    assert truth["auc"] == 1.0
    assert truth["psnr"] == PSNR_CAP_DB
    assert truth["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert truth["fid"] == pytest.approx(0.0, abs=1e-9)
    assert truth["colorfulness"] == pytest.approx(colorfulness(photos), rel=1e-6)


def test_gray_row_matches_an_independent_computation(report_and_data):
    report, photos, _, _ = report_and_data
    gray = gray_by_hand(photos)
    expected_psnr = np.mean([peak_signal_noise_ratio(a, b, data_range=255) for a, b in zip(photos, gray)])
    assert report.overall["gray"]["psnr"] == pytest.approx(expected_psnr, rel=1e-4)
    assert report.overall["gray"]["ssim"] == pytest.approx(ssim(photos, gray), abs=1e-3)
    assert report.overall["gray"]["colorfulness"] < 1.0  # only rounding leaves any colour
    # The "gray again" model predicts exactly the gray reference, so its row equals the gray row.
    for metric in PER_IMAGE_METRICS:
        assert report.overall["gray again"][metric] == pytest.approx(report.overall["gray"][metric], rel=1e-3, abs=1e-2)


def test_models_sit_between_the_reference_rows(report_and_data):
    report, *_ = report_and_data
    for metric in ("accuracy", "auc", "psnr", "ssim"):
        assert report.overall["gray"][metric] < report.overall["noisy"][metric] < report.overall["ground truth"][metric]
    assert report.overall["noisy"]["fid"] > 0.0


def test_per_class_split(report_and_data):
    report, photos, predictions, labels = report_and_data
    assert list(report.per_class) == ["cat", "dog", "class 2"]
    assert report.class_counts == {"cat": 4, "dog": 2, "class 2": 2}
    for label, name in enumerate(["cat", "dog", "class 2"]):
        mask = labels == label
        expected = pixel_accuracy(photos[mask], predictions["noisy"][mask])
        assert report.per_class[name]["noisy"]["accuracy"] == pytest.approx(expected, rel=1e-6)
        assert report.per_class[name]["ground truth"]["accuracy"] == 1.0
        assert "fid" not in report.per_class[name]["noisy"]
    np.testing.assert_array_equal(report.per_image["ground truth"]["accuracy"], np.ones(8, np.float32))


def test_dict_and_markdown(report_and_data):
    report, *_ = report_and_data
    data = json.loads(json.dumps(report.to_dict()))
    assert data["rows"] == report.rows
    assert data["overall"]["ground truth"]["accuracy"] == 1.0
    assert data["per_class"]["dog"]["noisy"]["psnr"] == pytest.approx(report.per_class["dog"]["noisy"]["psnr"])
    assert data["settings"]["psnr_cap"] == PSNR_CAP_DB
    markdown = report.to_markdown()
    assert "| ground truth | 100.0% | 1.000 | 100.00 |" in markdown
    assert "## Accuracy by class" in markdown and "| cat | 4 |" in markdown
    assert "random InceptionV3 weights" in markdown
    assert "## Accuracy by class" not in report.to_markdown(per_class=False)
    assert report.table_markdown("dog").count("\n") == 1 + len(report.rows)
    with pytest.raises(ValueError, match="Unknown class"):
        report.table_markdown("horse")


def test_report_without_labels_or_models(photos):
    report = evaluate_predictions(photos, {}, metrics=("psnr",), verbose=False)
    assert report.rows == ["gray", "ground truth"]
    assert report.per_class == {} and report.per_class_markdown("psnr") == ""
    assert "by class" not in report.to_markdown()


def test_report_input_errors(photos):
    with pytest.raises(ValueError, match="reserved"):
        evaluate_predictions(photos, {"gray": photos}, metrics=("psnr",), verbose=False)
    with pytest.raises(ValueError, match="labels must have shape"):
        evaluate_predictions(photos, {}, labels=[0, 1], metrics=("psnr",), verbose=False)
    with pytest.raises(ValueError, match="shape"):
        evaluate_predictions(photos, {"half": photos[:4]}, metrics=("psnr",), verbose=False)
    with pytest.raises(ValueError, match="Unknown metric"):
        evaluate_predictions(photos, {}, metrics=("sharpness",), verbose=False)
    with pytest.raises(ValueError, match="mapping"):
        evaluate_predictions(photos, [photos], metrics=("psnr",), verbose=False)


def test_evaluate_generator_with_predict_callables(photos):
    report = evaluate_generator(
        {"identity": lambda images: images.copy(), "inverted": lambda images: 255 - images},
        photos,
        metrics=("accuracy", "psnr"),
        verbose=False,
    )
    assert report.rows == ["gray", "identity", "inverted", "ground truth"]
    assert report.overall["identity"] == report.overall["ground truth"]
    assert report.overall["inverted"]["accuracy"] < report.overall["gray"]["accuracy"]
    with pytest.raises(ValueError, match="shape"):
        evaluate_generator({"cropped": lambda images: images[:, :8]}, photos, metrics=("psnr",), verbose=False)


def test_write_report(tmp_path, report_and_data):
    report, photos, predictions, labels = report_and_data
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,d_loss,g_loss,g_adversarial,g_l1,val_l1,val_psnr\n0,0.7,5.1,0.7,4.4,0.05,20.1\n1,0.6,4.0,0.8,3.2,0.04,21.5\n"
    )
    paths = write_report(
        report,
        tmp_path / "eval",
        photos,
        predictions,
        labels=labels,
        class_names=["cat", "dog"],
        history_csv=history,
        num_examples=3,
    )
    assert json.loads(paths["metrics"].read_text()) == json.loads(json.dumps(report.to_dict()))
    markdown = paths["report"].read_text()
    names = {path.name for path in paths["figures"]}
    assert names == {
        "comparison.png",
        "ab_histograms.png",
        "best_worst_noisy.png",
        "best_worst_gray_again.png",
        "loss_curves.png",
    }
    for path in paths["figures"]:
        assert path.read_bytes().startswith(b"\x89PNG")
        assert f"]({path.name})" in markdown
    assert "| noisy |" in markdown


def test_write_report_tables_only(tmp_path, photos):
    report = evaluate_predictions(photos, {"same": photos}, metrics=("ssim",), verbose=False)
    paths = write_report(report, tmp_path)
    assert paths["figures"] == []
    assert "## Figures" not in paths["report"].read_text()

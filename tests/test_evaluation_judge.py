"""Semantic interpretability: the judge, its gap arithmetic, its classifiers, the report and the CLI."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from kcolor.evaluation import GRAY_ROW, TRUTH_ROW, evaluate_predictions
from kcolor.evaluation.judge import (
    IMAGENETTE_IMAGENET_INDICES,
    SemanticJudge,
    build_judge_classifier,
    gap_closed,
    imagenet_judge,
    judge_from_spec,
    load_judge,
    readable_class_names,
    semantic_interpretability,
    train_judge,
)
from kcolor.evaluation.lab import gray_reference


def hue_classifier(images):
    """A judge that sees only color: class 0 when red dominates blue, class 1 when blue does, else a coin
    that always says 0. Scores `(N, 2)` from float32 RGB in [0, 255]."""
    images = np.asarray(images, np.float32)
    red_minus_blue = (images[..., 0] - images[..., 2]).mean(axis=(1, 2))
    return np.stack([np.where(red_minus_blue >= -1, 1.0, 0.0), np.where(red_minus_blue < -1, 1.0, 0.0)], axis=-1)


def red_and_blue_photos(count=8, size=16, seed=0):
    """Half reddish, half bluish photos of equal lightness pattern, with labels 0 (red) and 1 (blue)."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(60, 120, (count, size, size, 1))
    red = np.concatenate([texture + 90, texture, texture], axis=-1)
    blue = np.concatenate([texture, texture, texture + 90], axis=-1)
    labels = np.arange(count) % 2
    images = np.where(labels[:, None, None, None] == 0, red, blue).astype(np.uint8)
    return images, labels


def test_gap_closed_reproduces_zhang_et_al_and_is_undefined_without_a_gap():
    assert gap_closed(0.560, 0.527, 0.683) == pytest.approx(0.2115, abs=1e-3)
    assert gap_closed(0.683, 0.527, 0.683) == pytest.approx(1.0)
    assert gap_closed(0.527, 0.527, 0.683) == pytest.approx(0.0)
    assert math.isnan(gap_closed(0.5, 0.6, 0.6))


def test_a_color_judge_tells_real_colors_from_gray_and_wrong_colors():
    images, labels = red_and_blue_photos()
    judge = SemanticJudge(hue_classifier)
    swapped = images[..., ::-1]  # red <-> blue: confident and wrong
    result = semantic_interpretability(judge, images, labels, {"right": images, "swapped": swapped})
    assert list(result.accuracy) == [GRAY_ROW, "right", "swapped", TRUTH_ROW]
    assert result.accuracy[TRUTH_ROW] == 1.0
    assert result.accuracy[GRAY_ROW] == 0.5  # gray: always "red", right for half
    assert result.accuracy["swapped"] == 0.0
    assert result.gap_closed("right") == pytest.approx(1.0)
    assert result.gap_closed("swapped") == pytest.approx(-1.0)
    assert "| gray | 50.0% | 0% |" in result.table_markdown()


def test_the_right_class_probability_closes_the_same_gap_more_smoothly():
    images, labels = red_and_blue_photos()
    result = semantic_interpretability(SemanticJudge(hue_classifier), images, labels, {"right": images, "swapped": images[..., ::-1]})
    sure = math.e / (math.e + 1)  # softmax of the logits (1, 0)
    assert result.probability[TRUTH_ROW] == pytest.approx(sure)
    assert result.probability[GRAY_ROW] == pytest.approx(0.5)  # "red" for every photo: sure for half, unsure for half
    assert result.probability["swapped"] == pytest.approx(1 - sure)
    assert result.gap_closed("swapped", "probability") == pytest.approx(-1.0)
    assert result.gap_closed("right", "probability") == pytest.approx(1.0)
    assert "| gray | 50.0% | 0% | 50.0% | 0% |" in result.table_markdown()
    with pytest.raises(ValueError, match="unknown measure"):
        result.gap_closed("right", "loss")


def test_probabilities_are_renormalised_over_the_dataset_classes():
    def thousand_probabilities(batch):
        probabilities = np.full((len(batch), 1000), 0.5 / 998, np.float32)
        probabilities[:, [40, 30]] = 0.25 * hue_classifier(batch) + 0.125  # 0.375 and 0.125
        return probabilities

    images, labels = red_and_blue_photos(count=4)
    judge = SemanticJudge(thousand_probabilities, class_indices=[40, 30], outputs="probabilities")
    np.testing.assert_allclose(judge.right_class_probability(images, labels), 0.75, rtol=1e-6)
    with pytest.raises(ValueError, match="outputs"):
        SemanticJudge(hue_classifier, outputs="odds")


def test_the_difference_interval_separates_a_better_model_and_not_a_copy():
    images, labels = red_and_blue_photos(count=40)
    washed = images // 2 + 64  # the same hues, less saturated: right, with less confidence

    def saturation_aware(batch):  # logits grow with how far red is from blue
        red_minus_blue = (np.asarray(batch, np.float32)[..., 0] - np.asarray(batch, np.float32)[..., 2]).mean(axis=(1, 2))
        return np.stack([red_minus_blue / 30, -red_minus_blue / 30], axis=-1)

    result = semantic_interpretability(SemanticJudge(saturation_aware), images, labels, {"vivid": images, "washed": washed, "copy": washed})
    assert result.accuracy["vivid"] == result.accuracy["washed"] == 1.0  # accuracy cannot tell them apart
    low, high = result.difference_interval("vivid", "washed", resamples=200)
    assert 0 < low <= high  # the right-class probability can
    assert result.difference_interval("washed", "copy", resamples=200) == (0.0, 0.0)
    low, high = result.difference_interval("vivid", "washed", measure="accuracy", resamples=200)
    assert low == high == 0.0


def test_class_indices_pick_the_dataset_classes_out_of_a_larger_output():
    images, labels = red_and_blue_photos(count=4)

    def thousand_classes(batch):
        scores = np.zeros((len(batch), 1000), np.float32)
        scores[:, 7] = 5.0  # a class outside the dataset wins overall, and must be ignored
        scores[:, [40, 30]] = hue_classifier(batch)
        return scores

    judge = SemanticJudge(thousand_classes, class_indices=[40, 30])
    np.testing.assert_array_equal(judge.predict(images), labels)
    assert judge.accuracy(images, labels) == 1.0


def test_the_judge_resizes_and_preprocesses_before_classifying():
    seen = {}

    def classifier(batch):
        seen["shape"], seen["max"] = tuple(batch.shape), float(np.max(batch))
        return np.zeros((batch.shape[0], 3), np.float32)

    judge = SemanticJudge(classifier, preprocess=lambda x: x / 255.0, image_size=24, batch_size=2)
    assert judge.predict(np.full((3, 16, 16, 3), 255, np.uint8)).shape == (3,)
    assert seen["shape"] == (1, 24, 24, 3) and seen["max"] == pytest.approx(1.0)


def test_the_report_adds_judge_accuracy_and_gap_per_row_and_per_class():
    images, labels = red_and_blue_photos()
    report = evaluate_predictions(
        images, {"model": images[..., ::-1]}, labels=labels, class_names=["red", "blue"],
        metrics=("psnr",), judge=SemanticJudge(hue_classifier, name="hue"), verbose=False,
    )  # fmt: skip
    assert report.metrics == ["psnr", "judge", "judge_gap", "judge_probability", "judge_probability_gap"]
    assert report.overall[TRUTH_ROW]["judge"] == 1.0 and report.overall["model"]["judge_gap"] == pytest.approx(-1.0)
    assert report.overall["model"]["judge_probability_gap"] == pytest.approx(-1.0)  # swapped hues: surely wrong
    assert report.overall[GRAY_ROW]["judge_probability"] == pytest.approx(0.5)
    assert report.per_class["red"][GRAY_ROW]["judge"] == 1.0 and report.per_class["blue"][GRAY_ROW]["judge"] == 0.0
    markdown = report.to_markdown()
    assert "Gap closed" in markdown and "Judge accuracy by class" in markdown and "Judge: hue." in markdown
    json.dumps(report.to_dict(), allow_nan=False)
    with pytest.raises(ValueError, match="labels"):
        evaluate_predictions(images, {}, metrics=("psnr",), judge=SemanticJudge(hue_classifier), verbose=False)


def test_a_judge_that_ignores_color_has_no_gap_and_the_report_stays_strict_json():
    images, labels = red_and_blue_photos()
    blind = SemanticJudge(lambda batch: np.tile([[1.0, 0.0]], (len(batch), 1)))
    report = evaluate_predictions(images, {}, labels=labels, metrics=("psnr",), judge=blind, verbose=False)
    assert report.overall[TRUTH_ROW]["judge_gap"] is None and report.overall[TRUTH_ROW]["judge_probability_gap"] is None
    assert "–" in report.table_markdown()
    json.dumps(report.to_dict(), allow_nan=False)


def test_the_imagenet_judge_maps_imagenette_to_imagenet_classes_offline():
    assert sorted(IMAGENETTE_IMAGENET_INDICES) == list(IMAGENETTE_IMAGENET_INDICES)  # label order = sorted wnids
    assert list(IMAGENETTE_IMAGENET_INDICES.values()) == [0, 217, 482, 491, 497, 566, 569, 571, 574, 701]
    judge = imagenet_judge("MobileNetV3Small", weights=None, image_size=32)
    scores = judge.scores(np.random.default_rng(0).integers(0, 256, (3, 40, 40, 3)).astype(np.uint8))
    assert scores.shape == (3, 10) and np.isfinite(scores).all()
    assert readable_class_names(["n01440764", "cat"]) == ["tench", "cat"]
    with pytest.raises(ValueError, match="no model"):
        imagenet_judge("NoSuchNet", weights=None)


def test_the_small_judge_classifier_has_one_logit_per_class_at_any_input_size():
    classifier = build_judge_classifier(5, width=4, input_size=16)
    assert classifier(np.zeros((2, 40, 30, 3), np.float32)).shape == (2, 5)
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_judge_classifier(1)


def test_the_chroma_view_keeps_a_star_b_star_and_drops_lightness():
    from kcolor.evaluation.chroma_view import ChromaOnly
    from kcolor.host_lab import lab_from_rgb8

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 8, 8, 3)).astype(np.uint8)
    chroma = np.asarray(ChromaOnly()(images.astype(np.float32)))
    # Host against device Lab: under (4 + 5) float32 roundoffs per f value (tests/test_host_lab.py), plus 2.4 more
    # from rounding pixel / 255 before the device's power 2.4 (the host reads exact table values); a* weighs f
    # errors by 1000 (500 for each of fx, fy), then both sides divide by 110, each rounding once (|a*| / 110 < 1.2).
    bound = (4 + 5 + 2.4) * 2.0**-24 * 1000 / 110 + 2 * 2.0**-24 * 1.2
    np.testing.assert_allclose(chroma, lab_from_rgb8(images)[..., 1:] / 110.0, rtol=0, atol=bound)
    gray_levels = np.broadcast_to(np.arange(0, 256, 4, dtype=np.float32)[None, :, None, None], (1, 64, 1, 3))
    assert np.abs(np.asarray(ChromaOnly()(gray_levels))).max() < 1e-4  # every gray is the same to the judge


def test_a_chroma_judge_cannot_tell_gray_photos_apart_and_loads_back(tmp_path):
    data = write_class_folders(tmp_path / "photos")
    out = tmp_path / "chroma.keras"
    classifier, info = train_judge(f"folder:{data}", out, image_size=16, epochs=2, batch_size=8, width=4,
                                   view="chroma", verbose=0)  # fmt: skip
    assert info["view"] == "chroma" and "chroma" in [layer.name for layer in classifier.layers]
    judge = load_judge(out)
    rng = np.random.default_rng(1)
    gray = np.repeat(rng.integers(0, 256, (5, 16, 16, 1)), 3, axis=-1).astype(np.uint8)
    scores = judge.scores(gray)
    np.testing.assert_allclose(scores, np.broadcast_to(scores[:1], scores.shape), atol=1e-4)  # any lightness: one answer
    colors = rng.integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    np.testing.assert_allclose(judge.scores(colors), SemanticJudge(classifier).scores(colors), atol=1e-5)
    with pytest.raises(ValueError, match="unknown judge view"):
        build_judge_classifier(2, view="gray")


def write_class_folders(root, per_class=12, size=24):
    """A `folder:` dataset with class folders `red/` and `blue/` (train and validation by hash)."""
    images, labels = red_and_blue_photos(count=2 * per_class, size=size, seed=1)
    for index, (image, label) in enumerate(zip(images, labels)):
        folder = root / ("red" if label == 0 else "blue")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{index:03d}.png")
    return root


def test_train_judge_saves_a_safe_mode_model_and_its_facts(tmp_path):
    data = write_class_folders(tmp_path / "photos")
    out = tmp_path / "judge" / "judge.keras"
    classifier, info = train_judge(f"folder:{data}", out, image_size=16, epochs=2, batch_size=8, width=4, verbose=0)
    assert out.is_file() and json.loads(out.with_suffix(".json").read_text()) == info
    assert info["class_names"] == ["blue", "red"] and 0 <= info["validation_accuracy"] <= 1
    judge = load_judge(out)
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype(np.uint8)
    np.testing.assert_allclose(judge.scores(images), SemanticJudge(classifier).scores(images), atol=1e-5)
    assert isinstance(judge_from_spec(str(out)), SemanticJudge)
    with pytest.raises(ValueError, match="no judge"):
        load_judge(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match=".keras"):
        train_judge(f"folder:{data}", tmp_path / "judge.h5", epochs=1)


def test_the_cli_trains_a_judge_and_evaluate_reports_it(tmp_path, capsys):
    from kcolor.cli import main
    from kcolor.models import build_generator

    data = write_class_folders(tmp_path / "photos", size=16)
    judge_file = tmp_path / "judge.keras"
    assert main(["judge", "train", "--dataset", f"folder:{data}", "--out", str(judge_file), "--image-size", "16",
                 "--epochs", "1", "--batch-size", "8", "--width", "4", "--view", "chroma", "--verbose", "0"]) == 0  # fmt: skip
    assert json.loads(judge_file.with_suffix(".json").read_text())["view"] == "chroma"
    assert "validation accuracy" in capsys.readouterr().out
    generator_file = tmp_path / "generator.keras"
    build_generator("nazeri-cifar", width_multiplier=0.125).save(generator_file)
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--model", str(generator_file), "--dataset", f"folder:{data}", "--image-size", "16",
                 "--judge", str(judge_file), "--out", str(out), "--json", str(out / "m.json")]) == 0  # fmt: skip
    metrics = json.loads((out / "m.json").read_text())
    assert {"judge", "judge_gap"} <= set(metrics["metrics"]) and "judge" in metrics["overall"][TRUTH_ROW]
    assert "Gap closed" in (out / "report.md").read_text()


def test_gray_reference_keeps_lightness_and_drops_color():
    images, _ = red_and_blue_photos(count=2)
    gray = gray_reference(images)
    assert np.abs(gray[..., 0].astype(int) - gray[..., 2]).max() <= 1


def test_train_judge_trains_on_a_tfds_slice(tmp_path, monkeypatch):
    """`split` takes a TFDS slice: the course's cpu mode trains its judge on CIFAR-10's first 10,000 photos."""
    import tensorflow_datasets as tfds

    import kcolor.data

    splits, load_dataset = [], kcolor.data.load_dataset

    def recording_load_dataset(spec, split, *args, **kwargs):
        splits.append(split)
        return load_dataset(spec, split, *args, **kwargs)

    monkeypatch.setattr(kcolor.data, "load_dataset", recording_load_dataset)
    with tfds.testing.mock_data(num_examples=40):
        _, info = train_judge("cifar10", tmp_path / "judge.keras", split="train[:16]", image_size=32, epochs=1,
                              batch_size=8, width=4, verbose=0)
    # TFDS reads the slice (its mock data ignores slices, so the test checks what reaches TFDS).
    assert info["split"] == "train[:16]" and splits == ["train[:16]"]

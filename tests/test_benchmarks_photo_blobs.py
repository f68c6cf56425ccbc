"""`benchmarks.photo_blobs`: the photo goals' numbers per model, gray and truth rows, paired bootstrap intervals, and
colorfulness class by class."""

import numpy as np
import pytest

from benchmarks.photo_blobs import colorfulness_by_class, hue_agreement_by_class, score_models, table_markdown


def test_a_painted_blob_counts_and_the_reference_rows_are_exact():
    rng = np.random.default_rng(0)
    truth = rng.integers(20, 60, (4, 32, 32, 3), dtype=np.uint8)  # dark, muted photos
    painted = truth.copy()
    painted[1, 16:32, 16:32] = (120, 0, 160)  # one saturated 16-px block, bottom right, in photo 1 of 4
    results = score_models(truth, {"model": painted}, block_size=16)
    rows = results["models"]
    assert list(rows) == ["gray", "model", "ground truth"] and results["photos"] == 4
    assert rows["model"]["blob_photos"] == 1 and rows["model"]["blob_rate"] == 0.25
    assert rows["model"]["mean_blob_block_row_column"] == [1.0, 1.0]
    assert rows["model"]["worst_photos"][0][0] == 1
    assert rows["gray"]["blob_photos"] == rows["ground truth"]["blob_photos"] == 0
    assert rows["ground truth"]["colorfulness_vs_real"] == 1.0 and rows["gray"]["psnr_minus_gray"] == 0.0
    low, high = rows["model"]["blob_rate_interval"]
    assert 0.0 <= low <= 0.25 <= high <= 1.0
    # True colors everywhere but one block: far closer to the truth than gray, paired photo by photo.
    assert rows["model"]["psnr_minus_gray"] > 0 and rows["model"]["psnr_minus_gray_interval"][0] > 0
    assert "judge_gap" not in rows["model"]
    table = table_markdown(results)
    assert table.count("\n") == 4 and "| model | 25.0 % (1;" in table


def test_the_judge_columns_and_the_paired_difference_between_two_models():
    from kcolor.evaluation.judge import SemanticJudge

    rng = np.random.default_rng(0)
    texture = rng.integers(60, 120, (20, 32, 32, 1))
    labels = np.arange(20) % 2  # 0: reddish, 1: bluish
    truth = np.where(labels[:, None, None, None] == 0, np.concatenate([texture + 90, texture, texture], -1),
                     np.concatenate([texture, texture, texture + 90], -1)).astype(np.uint8)  # fmt: skip
    washed = truth // 2 + 64  # the same hues, less saturated

    def red_minus_blue_logits(batch):
        difference = (np.asarray(batch, np.float32)[..., 0] - np.asarray(batch, np.float32)[..., 2]).mean(axis=(1, 2))
        return np.stack([difference / 30, -difference / 30], axis=-1)

    results = score_models(truth, {"vivid": truth, "washed": washed}, block_size=16,
                           judge=SemanticJudge(red_minus_blue_logits), labels=labels)  # fmt: skip
    rows = results["models"]
    assert rows["vivid"]["judge_gap"] == rows["washed"]["judge_gap"] == 1.0  # both always right
    assert rows["vivid"]["judge_probability_gap"] == 1.0 > rows["washed"]["judge_probability_gap"] > 0
    difference = results["judge_differences"]["vivid - washed"]
    assert difference["accuracy"] == [0.0, 0.0] and difference["probability"][0] > 0
    assert "Judge gap, vivid - washed: accuracy +0 to +0 points, probability +" in table_markdown(results)


def test_colorfulness_by_class_finds_the_class_whose_color_is_missing():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (6, 16, 16, 3)).astype(np.float64)
    labels = np.array([0, 1, 0, 1, 0, 1])
    gray = truth.mean(axis=-1, keepdims=True)
    # Class 0 at half its chroma (R-G and (R+G)/2-B halve exactly), class 1 exact.
    half = np.where(labels[:, None, None, None] == 0, gray + 0.5 * (truth - gray), truth)
    table = colorfulness_by_class(truth.astype(np.uint8), {"model": np.round(half).astype(np.uint8)}, labels,
                                  ["cars", "dogs"])  # fmt: skip
    assert list(table) == ["cars", "dogs"] and table["cars"]["photos"] == table["dogs"]["photos"] == 3
    assert table["cars"]["model"] == pytest.approx(0.5, abs=0.01)  # rounding to uint8 moves it by < 1 %
    assert table["dogs"]["model"] == 1.0
    assert table["cars"]["real_colorfulness"] > 0
    assert list(colorfulness_by_class(truth.astype(np.uint8), {}, labels)) == ["0", "1"]


def test_hue_agreement_is_one_for_a_class_of_one_hue_and_low_for_opposite_hues():
    red, blue, cyan = (200, 40, 40), (40, 40, 200), (40, 200, 200)
    photos = np.array([red, red, red, blue, cyan, red], np.uint8)[:, None, None, :].repeat(8, 1).repeat(8, 2)
    labels = np.array([0, 0, 0, 1, 1, 1])  # class 0: all red; class 1: blue, cyan and red
    agreement = hue_agreement_by_class(photos, labels, ["fire trucks", "cars"])
    assert agreement["fire trucks"] == pytest.approx(1.0)
    assert 0 <= agreement["cars"] < 0.5

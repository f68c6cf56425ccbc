"""`benchmarks.photo_blobs`: the photo goals' numbers per model, gray and truth rows, paired bootstrap intervals."""

import numpy as np

from benchmarks.photo_blobs import score_models, table_markdown


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

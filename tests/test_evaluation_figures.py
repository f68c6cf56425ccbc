"""Evaluation figures build, show what they claim and save PNGs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kcolor.evaluation import ab_histogram, ab_histograms, best_and_worst, comparison_grid, loss_curves, read_history
from kcolor.evaluation.curves import panel_title
from kcolor.evaluation.grids import choose_indices

HISTORY = (
    "epoch,d_loss,g_loss,g_adversarial,g_l1,val_l1,val_psnr\n"
    "0,0.70,5.10,0.70,4.40,0.050,20.1\n"
    "1,0.62,4.00,0.80,3.20,0.041,21.5\n"
    "2,0.58,3.60,0.85,2.75,,22.0\n"
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def is_png(path):
    return path.read_bytes().startswith(b"\x89PNG")


def test_comparison_grid_columns_and_seeded_rows(tmp_path, photos):
    predictions = {"L1-only U-Net": 255 - photos, "GAN": photos}
    figure = comparison_grid(
        photos, predictions, count=3, seed=1, labels=np.arange(8), class_names=["a"], path=tmp_path / "grid.png"
    )
    axes = np.array(figure.axes).reshape(3, 4)
    assert [axis.get_title() for axis in axes[0]] == ["gray", "L1-only U-Net", "GAN", "ground truth"]
    indices = choose_indices(8, 3, seed=1)
    np.testing.assert_array_equal(axes[1, 3].get_images()[0].get_array(), photos[indices[1]])
    np.testing.assert_array_equal(axes[1, 2].get_images()[0].get_array(), photos[indices[1]])
    assert axes[0, 0].get_ylabel() == ("a" if indices[0] == 0 else f"class {indices[0]}")
    assert is_png(tmp_path / "grid.png")
    np.testing.assert_array_equal(choose_indices(8, 3, seed=1), indices)
    assert len(set(indices.tolist())) == 3


def test_comparison_grid_with_chosen_indices(photos):
    figure = comparison_grid(photos, {}, indices=[5, 2])
    assert len(figure.axes) == 2 * 2
    np.testing.assert_array_equal(figure.axes[1].get_images()[0].get_array(), photos[5])
    with pytest.raises(ValueError, match="indices"):
        comparison_grid(photos, {}, indices=[8])


def test_best_and_worst_orders_by_score(tmp_path, photos):
    scores = np.arange(8, dtype=np.float32) / 10  # image 7 is best, image 0 worst
    figure = best_and_worst(
        photos, photos, metric="accuracy", count=2, scores=scores, name="GAN", path=tmp_path / "bw.png"
    )
    axes = np.array(figure.axes).reshape(4, 2)
    np.testing.assert_array_equal(axes[0, 0].get_images()[0].get_array(), photos[7])
    np.testing.assert_array_equal(axes[2, 0].get_images()[0].get_array(), photos[0])
    assert axes[0, 0].get_title() == "Accuracy 70.0%"
    assert axes[0, 0].get_ylabel() == "best: GAN" and axes[3, 0].get_ylabel() == "ground truth"
    assert is_png(tmp_path / "bw.png")


def test_best_and_worst_computes_scores_and_rejects_unranked_metrics(photos):
    darker = (photos // 2).astype(np.uint8)
    figure = best_and_worst(photos, darker, metric="psnr", count=2)
    assert figure.axes[0].get_title().startswith("PSNR (dB)")
    with pytest.raises(ValueError, match="does not score"):
        best_and_worst(photos, darker, metric="colorfulness")
    with pytest.raises(ValueError, match="scores must have shape"):
        best_and_worst(photos, darker, scores=np.zeros(3))


def test_ab_histogram_of_gray_sits_at_the_origin():
    gray = np.full((2, 8, 8, 3), 90, np.uint8)
    histogram = ab_histogram(gray, bins=11)
    assert histogram.sum() == pytest.approx(1.0)
    assert histogram[5, 5] == pytest.approx(1.0)  # the central bin holds a* = b* = 0


def test_ab_histogram_panels(tmp_path, photos):
    gray = np.repeat(photos[..., :1], 3, axis=-1)
    figure = ab_histograms(photos, {"washed out": gray}, bins=32, path=tmp_path / "ab.png")
    titles = [axis.get_title() for axis in figure.axes[:2]]
    assert titles == ["washed out", "ground truth"]
    assert is_png(tmp_path / "ab.png")


def test_loss_curves_group_columns(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(HISTORY)
    columns = read_history(history)
    assert np.isnan(columns["val_l1"][2]) and columns["g_l1"][1] == 3.2
    figure = loss_curves(history, path=tmp_path / "curves.png")
    panels = {axis.get_title(): [line.get_label() for line in axis.get_lines()] for axis in figure.axes}
    assert panels == {
        "Discriminator loss": ["d_loss"],
        "Generator losses": ["g_loss", "g_adversarial", "g_l1"],
        "Losses": ["val_l1"],
        "PSNR": ["val_psnr"],
    }
    assert figure.axes[3].get_lines()[0].get_linestyle() == "--"
    assert is_png(tmp_path / "curves.png")


def test_loss_curves_overlay_runs(tmp_path):
    (tmp_path / "a.csv").write_text(HISTORY)
    (tmp_path / "b.csv").write_text("epoch,g_l1,val_l1\n0,4.0,0.05\n1,3.0,0.04\n")
    figure = loss_curves({"L1": tmp_path / "a.csv", "GAN": tmp_path / "b.csv"})
    generator_panel = next(axis for axis in figure.axes if axis.get_title() == "Generator losses")
    assert [line.get_label() for line in generator_panel.get_lines()] == [
        "L1: g_loss",
        "L1: g_adversarial",
        "L1: g_l1",
        "GAN: g_l1",
    ]


def test_panel_titles():
    assert panel_title("val_d_loss") == "Discriminator loss"
    assert panel_title("loss") == "Losses" and panel_title("val_mae") == "Losses"
    assert panel_title("val_ssim") == "SSIM" and panel_title("learning_rate") == "learning rate"


def test_history_without_rows(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("epoch,g_l1\n")
    with pytest.raises(ValueError, match="no epochs"):
        loss_curves(empty)

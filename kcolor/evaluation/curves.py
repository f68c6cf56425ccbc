"""Training curves from Keras `CSVLogger` files (`history.csv`).

A GAN's losses do not fall steadily like a classifier's: the discriminator and
generator push against each other. `loss_curves` plots whatever columns
a `history.csv` has, grouped so that comparable numbers share a panel:
discriminator losses (`d_*`), generator losses (`g_*`), other losses
(`*loss*`, `l1`...), and one panel per remaining metric (`psnr`...),
each training column next to its `val_` counterpart (dashed). Several runs
(e.g. "L1-only U-Net" and "GAN") can be overlaid.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kcolor.evaluation.figures import finish_figure

LOSS_NAMES = ("l1", "l2", "mae", "mse")
PANELS_PER_ROW = 3


def read_history(path: str | Path) -> dict[str, np.ndarray]:
    """Reads a `CSVLogger` file into float arrays, one per column.

    Args:
        path: The CSV file (header row, then one row per epoch).

    Returns:
        Column name to float64 array; empty or non-numeric cells become NaN.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it has no header or no rows.
    """
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        raise ValueError(f"{path} has no epochs: expected a header and at least one row.")
    return {name: np.array([_to_float(row.get(name)) for row in rows]) for name in rows[0]}


def _to_float(cell) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError):
        return float("nan")


def panel_title(column: str) -> str:
    """Names the panel a history column belongs to.

    Args:
        column: A column name such as `"d_loss"`, `"g_l1"`, `"val_psnr"`.

    Returns:
        `"Discriminator loss"`, `"Generator losses"`, `"Losses"` or the
        metric name without `val_` (short names in capitals: `"PSNR"`).

    Example:
        >>> [panel_title(name) for name in ("d_loss", "g_l1", "val_l1", "val_psnr")]
        ['Discriminator loss', 'Generator losses', 'Losses', 'PSNR']
    """
    base = column.removeprefix("val_")
    if base.startswith("d_"):
        return "Discriminator loss"
    if base.startswith("g_"):
        return "Generator losses"
    if "loss" in base or base in LOSS_NAMES:
        return "Losses"
    return base.upper() if len(base) <= 4 else base.replace("_", " ")


def loss_curves(
    history: str | Path | Mapping[str, str | Path], path: str | Path | None = None, title: str | None = None
):
    """Plots the columns of one or more `history.csv` files, grouped by panel.

    Args:
        history: A `history.csv` path, or run name to path to overlay runs.
        path: Optional PNG file to write.
        title: Optional figure title.

    Returns:
        The matplotlib figure.

    Raises:
        FileNotFoundError: If a file does not exist.
        ValueError: If a file has no rows or no numeric columns.

    Example:
        >>> figure = loss_curves({"L1": "runs/l1/history.csv", "GAN": "runs/gan/history.csv"})  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    runs = dict(history) if isinstance(history, Mapping) else {"": history}
    panels: dict[str, list[tuple[str, str, np.ndarray, np.ndarray]]] = {}
    for run, run_path in runs.items():
        columns = read_history(run_path)
        epochs = columns.pop("epoch", np.arange(len(next(iter(columns.values()), []))))
        plotted = {name: values for name, values in columns.items() if np.isfinite(values).any()}
        if not plotted:
            raise ValueError(f"{run_path} has no numeric columns to plot besides epoch.")
        for name, values in plotted.items():
            panels.setdefault(panel_title(name), []).append((run, name, epochs, values))
    columns = min(len(panels), PANELS_PER_ROW)
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for axis in axes.ravel()[len(panels) :]:
        axis.remove()
    for axis, (panel, curves) in zip(axes.ravel(), panels.items()):
        for run, name, epochs, values in curves:
            axis.plot(
                epochs,
                values,
                linestyle="--" if name.startswith("val_") else "-",
                marker="." if len(values) < 30 else None,
                label=f"{run}: {name}" if run else name,
            )
        axis.set_title(panel)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return finish_figure(figure, path, title)

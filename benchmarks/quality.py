"""Quality runs for docs/RESULTS.md: carve a selection split, train variants of the recipe, score them.

Three subcommands, each a few lines around kcolor's own API:

    python -m benchmarks.quality holdout --data npz:../shared/data/cifar10_train_subset.npz --out runs/quality/dev.npz
    python -m benchmarks.quality train --data npz:runs/quality/dev.npz --epochs 10 --out runs/quality/base --set width_multiplier=0.5
    python -m benchmarks.quality train --data npz:runs/quality/dev.npz --epochs 15 --from runs/quality/base --out runs/quality/l300 --set width_multiplier=0.5
    python -m benchmarks.quality score --data npz:runs/quality/dev.npz runs/quality/base runs/quality/l300 [--judge J]

`holdout` writes the *training* split of an `npz:` file as a new file, whose own validation split (its last
10 %) is a selection split: choose settings on it, and keep the original validation split (the original file's
last 10 %) for the final table only. `train` runs `kcolor.training.train` with the recipe (TrainConfig's
defaults: nazeri-cifar at batch 32) changed by `--set NAME=VALUE`; with `--from RUN` it continues a copy of a
run folder, so variants can share their first epochs (the L1 warm-up is the same in all of them). `score`
evaluates generators (run folders or .keras files) on the validation split of `--data`, with the gray and
ground-truth rows. On a CPU, the TensorFlow backend is the fast one (docs/PERFORMANCE.md).
"""

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np

from kcolor.data import load_arrays
from kcolor.data.npz import npz_split_range
from kcolor.evaluation import comparison_grid, evaluate_predictions, loss_curves, predict_all
from kcolor.evaluation.judge import load_judge
from kcolor.model_files import load_generator
from kcolor.training import TrainConfig, train

METRICS = ("accuracy", "psnr", "ssim", "colorfulness", "auc")


def parse_settings(pairs):
    """`["generator_steps=2", "mixed_precision=bfloat16"]` -> TrainConfig keyword arguments."""
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    settings = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or name not in fields:
            raise SystemExit(f"--set takes NAME=VALUE with NAME a TrainConfig field, got {pair!r}")
        try:
            settings[name] = json.loads(text)  # numbers, true/false
        except ValueError:
            settings[name] = text  # e.g. mixed_precision=bfloat16
    return settings


def write_holdout(data, out):
    """Writes the training split of the `npz:` file `data` to `out` (images and labels, in file order)."""
    if not data.startswith("npz:"):
        raise SystemExit(f"holdout needs an npz: dataset, got {data!r}")
    with np.load(data[len("npz:"):]) as arrays:
        rows = npz_split_range(len(arrays["images"]), "train")
        kept = {name: arrays[name][rows.start : rows.stop] for name in arrays.files}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **kept)
    print(f"{out}: images {rows.start}-{rows.stop - 1} of {data[len('npz:'):]} (its training split)")


def train_run(data, epochs, out, settings, start_from=None):
    """One run of `kcolor.training.train` with the recipe changed by `settings` (TrainConfig fields).

    With `start_from` (a run folder), `out` starts as a copy of it and resumes.
    """
    if start_from:
        if Path(out).exists():
            raise SystemExit(f"{out} exists; --from copies {start_from} into a new folder")
        shutil.copytree(start_from, out)
        settings = {**settings, "resume": True}
    options = dict(preset="nazeri-cifar", verbose=0)
    config = TrainConfig(out=out, dataset=data, epochs=epochs, **{**options, **settings})
    start = time.time()
    result = train(config)
    print(out, "train s", round(time.time() - start), {k: round(v[-1], 4) for k, v in result.history.items()})
    return result


def score(data, models, figures=None, judge=None):
    """Prints the Markdown table of `models` (run folders or .keras files) on the validation split.

    With `figures` (a folder), also writes `comparison.png` (gray | each model | truth) and, for run folders,
    `loss_curves.png` from their `history.csv`. With `judge` (a `.keras` file from `kcolor judge train`), adds
    its accuracy and the share of the gray-to-truth gap each row closes. Returns the report.
    """
    images, labels = load_arrays(data, "validation", 32)
    generators = {Path(model).name: load_generator(model) for model in models}
    predictions = predict_all(generators, images)
    judged = dict(labels=labels, judge=load_judge(judge)) if judge else {}
    report = evaluate_predictions(images, predictions, metrics=METRICS, verbose=False, **judged)
    print(f"{len(images)} validation images")
    print(report.table_markdown())
    if figures:
        Path(figures).mkdir(parents=True, exist_ok=True)
        comparison_grid(images, predictions, count=8, seed=0, path=Path(figures) / "comparison.png")
        histories = {Path(m).name: Path(m) / "history.csv" for m in models if (Path(m) / "history.csv").is_file()}
        if histories:
            loss_curves(histories, path=Path(figures) / "loss_curves.png")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    holdout = commands.add_parser("holdout", help="write the training split of an npz: file as a new file")
    single = commands.add_parser("train", help="one run of the recipe with changed TrainConfig settings")
    scoring = commands.add_parser("score", help="score generators with gray and ground-truth rows")
    for command in (holdout, single, scoring):
        command.add_argument("--data", required=True, help="dataset spec, e.g. npz:PATH")
    holdout.add_argument("--out", required=True, help="the .npz file to write")
    single.add_argument("--epochs", type=int, default=15)
    single.add_argument("--out", required=True, help="run folder")
    single.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a TrainConfig field")
    single.add_argument("--from", dest="start_from", metavar="RUN", help="continue a copy of this run folder")
    scoring.add_argument("models", nargs="+")
    scoring.add_argument("--figures", help="folder for comparison.png and loss_curves.png")
    scoring.add_argument("--judge", help="a judge .keras file (kcolor judge train) for semantic interpretability")
    args = parser.parse_args(argv)
    if args.command == "holdout":
        write_holdout(args.data, args.out)
    elif args.command == "train":
        train_run(args.data, args.epochs, args.out, parse_settings(args.set), start_from=args.start_from)
    else:
        score(args.data, args.models, args.figures, args.judge)


if __name__ == "__main__":
    main()

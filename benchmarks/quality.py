"""Quality runs for docs/RESULTS.md: train the L1-only U-Net and the GAN, fine-tune a GAN from the U-Net, score.

Three subcommands, each a few lines around kcolor's own API:

    python -m benchmarks.quality pair  --data npz:../shared/data/cifar10_train_subset.npz --epochs 15 --out runs/quality/base
    python -m benchmarks.quality nogan --data npz:../shared/data/cifar10_train_subset.npz --init runs/quality/base_l1 --epochs 4 --out runs/quality/nogan
    python -m benchmarks.quality score --data npz:../shared/data/cifar10_train_subset.npz runs/quality/base_l1 runs/quality/base_gan runs/quality/nogan_e2.keras

`pair` trains `OUT_l1` and `OUT_gan` with `kcolor.training.train` (nazeri-cifar, width 0.25, batch 128, the
default recipe); `nogan` starts a GAN from a trained generator (DeOldify's "NoGAN": L1 first, adversarial after)
and saves the generator after every epoch; `score` evaluates generators on the `validation` split of `--data`
(for `npz:`, the last 10 % of the file, never used for training or model selection) with the gray and ground
truth rows. Use `KERAS_BACKEND=jax` for speed on a CPU or a GPU.
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import keras

from kcolor.data import load_arrays, load_dataset
from kcolor.evaluation import comparison_grid, evaluate_predictions, loss_curves, predict_all
from kcolor.gan import ColorizationGAN
from kcolor.model_files import load_generator
from kcolor.models import build_discriminator
from kcolor.training import TrainConfig, train

METRICS = ("accuracy", "psnr", "ssim", "colorfulness", "auc")


def train_pair(data, epochs, out, width_multiplier=0.25):
    """Trains the L1-only U-Net (`OUT_l1`) and the GAN (`OUT_gan`) with the default recipe."""
    for kind in ("l1", "gan"):
        config = TrainConfig(out=f"{out}_{kind}", dataset=data, preset="nazeri-cifar", width_multiplier=width_multiplier,
                             epochs=epochs, batch_size=128, l1_only=kind == "l1", verbose=0)
        start = time.time()
        result = train(config)
        print(kind, "train s", round(time.time() - start), {k: round(v[-1], 4) for k, v in result.history.items()})


def parse_settings(pairs):
    """`["generator_steps=2", "discriminator_learning_rate=3e-5"]` -> TrainConfig keyword arguments."""
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


def train_run(data, epochs, out, settings, width_multiplier=0.25):
    """One run of `kcolor.training.train` with the default recipe changed by `settings` (TrainConfig fields)."""
    options = dict(preset="nazeri-cifar", width_multiplier=width_multiplier, batch_size=128, verbose=0)
    config = TrainConfig(out=out, dataset=data, epochs=epochs, **{**options, **settings})
    start = time.time()
    result = train(config)
    print(out, "train s", round(time.time() - start), {k: round(v[-1], 4) for k, v in result.history.items()})


def train_nogan(data, init, epochs, out, width_multiplier=0.25, discriminator_learning_rate=2e-4, seed=0):
    """Adversarial fine-tuning of a trained generator; saves `OUT_eN.keras` after every epoch."""
    keras.utils.set_random_seed(seed)
    generator = load_generator(init)
    gan = ColorizationGAN(generator, build_discriminator("nazeri-cifar", width_multiplier=width_multiplier))
    gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(discriminator_learning_rate, beta_1=0.5))
    batches = load_dataset(data, "train", 32, 128, seed=seed, drop_remainder=True)
    start = time.time()
    for epoch in range(epochs):
        history = gan.fit(batches, epochs=1, verbose=0)
        generator.save(f"{out}_e{epoch + 1}.keras")
        print(epoch + 1, round(time.time() - start), {k: round(v[-1], 3) for k, v in history.history.items()})


def score(data, models, figures=None):
    """Prints the Markdown table of `models` (run folders or .keras files) on the validation split.

    With `figures` (a folder), also writes `comparison.png` (gray | each model | truth) and, for run folders,
    `loss_curves.png` from their `history.csv`.
    """
    images, _ = load_arrays(data, "validation", 32)
    generators = {Path(model).name: load_generator(model) for model in models}
    predictions = predict_all(generators, images)
    report = evaluate_predictions(images, predictions, metrics=METRICS, verbose=False)
    print(f"{len(images)} validation images")
    print(report.table_markdown())
    if figures:
        Path(figures).mkdir(parents=True, exist_ok=True)
        comparison_grid(images, predictions, count=8, seed=0, path=Path(figures) / "comparison.png")
        histories = {Path(m).name: Path(m) / "history.csv" for m in models if (Path(m) / "history.csv").is_file()}
        if histories:
            loss_curves(histories, path=Path(figures) / "loss_curves.png")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pair = commands.add_parser("pair", help="train the L1-only U-Net and the GAN")
    nogan = commands.add_parser("nogan", help="adversarial fine-tuning of a trained generator")
    scoring = commands.add_parser("score", help="score generators with gray and ground-truth rows")
    single = commands.add_parser("train", help="one run with changed TrainConfig settings")
    single.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a TrainConfig field")
    for command in (pair, nogan, scoring, single):
        command.add_argument("--data", required=True, help="dataset spec, e.g. npz:PATH")
    for command in (pair, nogan, single):
        command.add_argument("--epochs", type=int, default=15)
        command.add_argument("--out", required=True, help="output prefix")
    nogan.add_argument("--init", required=True, help="run folder or .keras file of the starting generator")
    nogan.add_argument("--discriminator-learning-rate", type=float, default=2e-4)
    scoring.add_argument("models", nargs="+")
    scoring.add_argument("--figures", help="folder for comparison.png and loss_curves.png")
    args = parser.parse_args(argv)
    if args.command == "pair":
        train_pair(args.data, args.epochs, args.out)
    elif args.command == "train":
        train_run(args.data, args.epochs, args.out, parse_settings(args.set))
    elif args.command == "nogan":
        train_nogan(args.data, args.init, args.epochs, args.out, discriminator_learning_rate=args.discriminator_learning_rate)
    else:
        score(args.data, args.models, args.figures)


if __name__ == "__main__":
    main()

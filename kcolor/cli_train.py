"""`kcolor train`: train a colorization GAN (or the L1-only U-Net) into a run folder (`kcolor.training.train`).

The options and their defaults come from `TrainConfig` (one source: `kcolor train --help` shows the recipe's
defaults). `--resume` continues the run in `--out` with the options it was started with and those given now on
top, as `kcolor.training_config.resume_config` says.
"""

import argparse
import sys

from kcolor.cli_arguments import non_negative_float, non_negative_int, positive_float, positive_int
from kcolor.distribution import KINDS
from kcolor.models.presets import PRESETS
from kcolor.training_config import CHROMA_PENALTIES, TrainConfig, resume_config


def add_train_parser(subparsers):
    """Adds the `train` command to the `kcolor` parser.

    Args:
        subparsers: What `ArgumentParser.add_subparsers` returned.

    Returns:
        The `train` command's `argparse.ArgumentParser`.
    """
    defaults = TrainConfig()  # one source of the defaults (how each was chosen: docs/TRAINING.md)

    parser = subparsers.add_parser(
        "train",
        help="train a colorization GAN (or the L1-only U-Net) into a run folder",
        description="Train a colorization GAN on a dataset and write the generator, checkpoints, history.csv, "
        "per-epoch sample grids and TensorBoard logs into --out.",
    )
    parser.add_argument("--dataset", default=defaults.dataset,
                        help="sample (offline photos), a TFDS name (cifar10, places365_small, imagenette/320px-v2, "
                        f"...), folder:PATH or npz:PATH (default: {defaults.dataset})")
    parser.add_argument("--val-dataset", help="validation data spec (default: the validation split of --dataset)")
    parser.add_argument("--preset", default=defaults.preset, choices=sorted(PRESETS), help="architecture")
    parser.add_argument("--image-size", type=positive_int, help="training crop size (default: the preset's)")
    parser.add_argument("--width-multiplier", type=positive_float, default=defaults.width_multiplier,
                        help="scale every block's filters, e.g. 0.25 for a CPU-sized model")
    parser.add_argument("--epochs", type=positive_int, default=defaults.epochs,
                        help=f"epochs in total, counting those before a --resume (default {defaults.epochs})")
    parser.add_argument("--batch-size", type=positive_int, help="default: the preset's (the paper's)")
    parser.add_argument("--steps-per-epoch", type=positive_int,
                        help="batches per epoch (default: one pass over the training split)")
    parser.add_argument("--out", default=defaults.out, help=f"run folder (default: {defaults.out})")
    parser.add_argument("--l1-only", action="store_true", help="train the L1-only U-Net baseline, no GAN")
    parser.add_argument("--initial-generator", metavar="MODEL",
                        help="start the generator from a run folder or generator .keras of the same preset and "
                        "width (with --l1-warmup-epochs 0: the GAN game after an L1-only run)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint, with the options it was "
                        "started with (options given now override them; --epochs can extend the run)")
    parser.add_argument("--checkpoint-every", type=non_negative_int, default=defaults.checkpoint_every,
                        metavar="STEPS", help="also checkpoint every STEPS steps within an epoch; 0: at epoch ends "
                        f"only (default {defaults.checkpoint_every})")
    parser.add_argument("--keep-generators", action="store_true",
                        help="also keep every epoch's generator in OUT/generators/epoch_NNN.keras, to compare the "
                        "epochs of the GAN game afterwards")
    parser.add_argument("--deterministic", action="store_true",
                        help="deterministic ops: the same options give the same weights on the same machine, "
                        "also across --resume (slower on GPUs)")
    parser.add_argument("--distribute", default=defaults.distribute, choices=KINDS,
                        help="data-parallel training over several devices: mirrored / multi-worker (TensorFlow), "
                        "data-parallel (JAX), auto; --batch-size is the global batch")
    parser.add_argument("--mixed-precision", nargs="?", const="auto", default=defaults.mixed_precision,
                        choices=["off", "auto", "bfloat16", "float16"],
                        help="mixed precision; bare flag (auto): float16 on a GPU, bfloat16 on a CPU that has it "
                        "natively (avx512_bf16 / amx_bf16), else off")
    parser.add_argument("--generator-steps", type=positive_int, default=defaults.generator_steps,
                        help=f"generator updates per discriminator update (default {defaults.generator_steps}; "
                        "the paper's code: 2)")
    parser.add_argument("--l1-warmup-epochs", type=non_negative_int, default=defaults.l1_warmup_epochs,
                        help="epochs of L1-only generator training before the GAN game starts (default: the first "
                        "two thirds of --epochs; 0: the GAN game from the first step)")
    parser.add_argument("--generator-ema", type=non_negative_float, default=defaults.generator_ema,
                        metavar="MOMENTUM", help="momentum of the moving average of the generator's weights that "
                        f"is saved (default {defaults.generator_ema}; 0: save the trained weights)")
    recipe_weights = ", ".join(f"{name} {preset.l1_weight:g}" for name, preset in sorted(PRESETS.items()))
    parser.add_argument("--l1-weight", type=non_negative_float, default=defaults.l1_weight,
                        help=f"lambda of the L1 term (default: the preset's recipe value: {recipe_weights})")
    parser.add_argument("--chroma-weight", type=non_negative_float, default=defaults.chroma_weight,
                        help="weight of a term on the chroma |ab| alone: the true amount of color, whatever "
                        f"the hue (default {defaults.chroma_weight:g}: the paper's loss)")
    parser.add_argument("--chroma-penalty", choices=CHROMA_PENALTIES, default=defaults.chroma_penalty,
                        help="that term's penalty: absolute (the median amount of color, the default) or squared "
                        "(the mean amount; a large excess costs quadratically)")
    parser.add_argument("--learning-rate", type=positive_float, default=defaults.generator_learning_rate,
                        help=f"Adam learning rate of G and D (default {defaults.generator_learning_rate:g})")
    parser.add_argument("--discriminator-learning-rate", type=positive_float, metavar="RATE",
                        help="D's own Adam learning rate, e.g. larger than G's (default: --learning-rate)")
    parser.add_argument("--discriminator-spectral-norm", action=argparse.BooleanOptionalAction,
                        help="spectrally normalise every discriminator convolution instead of batch-normalising it "
                        "(default: the preset's)")
    parser.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                        help=f"fixes the initial weights, dropout, data order and crops (default {defaults.seed})")
    parser.add_argument("--data-dir", help="TFDS data folder (default: the project's data/)")
    parser.add_argument("--jit", dest="jit_compile", action="store_const", const=True, default=defaults.jit_compile,
                        help="XLA-compile the train step (default: on for JAX and for TensorFlow with a GPU, off "
                        "for TensorFlow on a CPU, where XLA is slower)")
    parser.add_argument("--no-jit", dest="jit_compile", action="store_const", const=False,
                        help="do not XLA-compile the train step")
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=defaults.verbose,
                        help="progress output: 0 none, 1 progress bar (default), 2 one line per epoch")
    parser.set_defaults(run=_run_train)
    return parser


def _config_fields(args, destinations):
    """`TrainConfig` fields of the `kcolor train` options named by `destinations`."""
    fields = {}
    for destination in destinations:
        value = getattr(args, destination)
        if destination == "learning_rate":
            fields["generator_learning_rate"] = value
            fields.setdefault("discriminator_learning_rate", value)
        elif destination == "discriminator_learning_rate":
            if value is not None:
                fields["discriminator_learning_rate"] = value
        elif destination not in ("command", "run", "argv"):
            fields[destination] = value
    return fields


def _explicit_destinations(argv):
    """The destinations of the `kcolor train` options that `argv` gives explicitly (not by default)."""
    train_parser = add_train_parser(argparse.ArgumentParser(prog="kcolor").add_subparsers())
    unset = object()
    # argparse only fills in defaults for destinations that the namespace does not have yet.
    namespace = argparse.Namespace(**{destination: unset for destination in vars(train_parser.parse_args([]))})
    train_parser.parse_args(argv[argv.index("train") + 1 :], namespace=namespace)
    return {destination for destination, value in vars(namespace).items() if value is not unset}


def train_config(args):
    """The `TrainConfig` of a parsed `kcolor train` command line.

    Args:
        args: The parsed arguments; `args.argv` (the command line, set by `kcolor.cli.main`) tells which options
            were given explicitly. Without it every option counts as given.

    Returns:
        A `TrainConfig`. With `--resume`, `resume_config` of the run in `--out` with the explicit options on
        top, so that options left out keep the values the run was started with.

    Raises:
        ValueError: with `--resume`, the run's `config.json` cannot be read.
    """
    fields = _config_fields(args, vars(args))
    if not args.resume:
        return TrainConfig(**fields)
    argv = getattr(args, "argv", None)
    explicit = _config_fields(args, _explicit_destinations(argv)) if argv is not None else fields
    return resume_config(args.out, explicit)


def _run_train(args):
    from kcolor.training import train

    try:
        result = train(train_config(args))
    except KeyboardInterrupt:
        print(f"interrupted; `kcolor train --resume --out {args.out}` continues from the last checkpoint",
              file=sys.stderr)
        return 130
    if result.generator_path.is_file():
        print(f"Run folder:       {result.run_dir}")
        print(f"Generator:        {result.generator_path}  (kcolor colorize PHOTO --model {result.run_dir})")
        print(f"History:          {result.history_path}")
        print(f"Sample grids:     {result.samples_dir}/epoch_NNN.png  (gray | prediction | truth)")
        print(f"Checkpoint:       {result.checkpoint_dir}  (continue with --resume)")
    if (result.run_dir / "logs").exists():
        print(f"TensorBoard logs: {result.run_dir / 'logs'}  (tensorboard --logdir {result.run_dir / 'logs'})")
    if result.stopped_early_reason:
        print(result.stopped_early_reason, file=sys.stderr)
        return 1
    return 0

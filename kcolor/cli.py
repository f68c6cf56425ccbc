"""The command line: `kcolor train`, `colorize`, `evaluate` and `judge` (also `python -m kcolor ...`).

Errors a user can cause (a bad option, an unreadable photo, a missing model, no internet for a download) end
with a one-line message and a non-zero exit status, not a traceback.

The parser is built from modules that import neither Keras nor TensorFlow (`kcolor.training_config`,
`kcolor.models.presets`, `kcolor.distribution`'s `KINDS`), so `kcolor --help`, `kcolor COMMAND --help` and a
mistyped option answer at once; each command imports what it needs in its run function, after
`kcolor.quiet.quiet_tensorflow_startup` has imported TensorFlow with its start-up lines filtered.
"""

import argparse
import errno
import json
import math
import os
import sys
from pathlib import Path

EXAMPLE_PREFIX = "example:"

# File types that `kcolor colorize` picks up in folders (files given by name are always tried).
COLORIZE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Errors writing an output that every further output would hit as well: stop instead of going on.
_OUTPUT_FOLDER_ERRORS = {errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _number_type(convert, minimum, minimum_allowed, description):
    """An argparse `type` that converts with `convert` and accepts finite values above (or at) `minimum`."""

    def parse(text):
        value = convert(text)
        if not math.isfinite(value) or value < minimum or (value == minimum and not minimum_allowed):
            raise argparse.ArgumentTypeError(f"must be {description}, got {text}")
        return value

    parse.__name__ = description.replace(" ", "_")  # argparse names it in "invalid ... value" messages
    return parse


_positive_int = _number_type(int, 0, False, "a positive integer")
_non_negative_int = _number_type(int, 0, True, "zero or positive")
_positive_float = _number_type(float, 0, False, "a positive number")
_non_negative_float = _number_type(float, 0, True, "zero or a positive number")


def _add_train_parser(subparsers):
    from kcolor.distribution import KINDS
    from kcolor.models.presets import PRESETS
    from kcolor.training_config import TrainConfig

    defaults = TrainConfig()  # one source of the defaults (the training recipe's reasons are in its docstring)

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
    parser.add_argument("--image-size", type=_positive_int, help="training crop size (default: the preset's)")
    parser.add_argument("--width-multiplier", type=_positive_float, default=defaults.width_multiplier,
                        help="scale every block's filters, e.g. 0.25 for a CPU-sized model")
    parser.add_argument("--epochs", type=_positive_int, default=defaults.epochs,
                        help=f"epochs in total, counting those before a --resume (default {defaults.epochs})")
    parser.add_argument("--batch-size", type=_positive_int, help="default: the preset's (the paper's)")
    parser.add_argument("--steps-per-epoch", type=_positive_int,
                        help="batches per epoch (default: one pass over the training split)")
    parser.add_argument("--out", default=defaults.out, help=f"run folder (default: {defaults.out})")
    parser.add_argument("--l1-only", action="store_true", help="train the L1-only U-Net baseline, no GAN")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint, with the options it was "
                        "started with (options given now override them; --epochs can extend the run)")
    parser.add_argument("--checkpoint-every", type=_non_negative_int, default=defaults.checkpoint_every,
                        metavar="STEPS", help="also checkpoint every STEPS steps within an epoch; 0: at epoch ends "
                        f"only (default {defaults.checkpoint_every})")
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
    parser.add_argument("--generator-steps", type=_positive_int, default=defaults.generator_steps,
                        help=f"generator updates per discriminator update (default {defaults.generator_steps}; "
                        "the paper's code: 2)")
    parser.add_argument("--l1-warmup-epochs", type=_non_negative_int, default=defaults.l1_warmup_epochs,
                        help="epochs of L1-only generator training before the GAN game starts (default: the first "
                        "two thirds of --epochs; 0: the GAN game from the first step)")
    parser.add_argument("--generator-ema", type=_non_negative_float, default=defaults.generator_ema,
                        metavar="MOMENTUM", help="momentum of the moving average of the generator's weights that "
                        f"is saved (default {defaults.generator_ema}; 0: save the trained weights)")
    recipe_weights = ", ".join(f"{name} {preset.l1_weight:g}" for name, preset in sorted(PRESETS.items()))
    parser.add_argument("--l1-weight", type=_non_negative_float, default=defaults.l1_weight,
                        help=f"lambda of the L1 term (default: the preset's recipe value: {recipe_weights})")
    parser.add_argument("--learning-rate", type=_positive_float, default=defaults.generator_learning_rate,
                        help=f"Adam learning rate of G and D (default {defaults.generator_learning_rate:g})")
    parser.add_argument("--seed", type=_non_negative_int, default=defaults.seed,
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
            fields["generator_learning_rate"] = fields["discriminator_learning_rate"] = value
        elif destination not in ("command", "run", "argv"):
            fields[destination] = value
    return fields


def _explicit_destinations(argv):
    """The destinations of the `kcolor train` options that `argv` gives explicitly (not by default)."""
    train_parser = build_parser().command_parsers["train"]
    unset = object()
    # argparse only fills in defaults for destinations that the namespace does not have yet.
    namespace = argparse.Namespace(**{destination: unset for destination in vars(train_parser.parse_args([]))})
    train_parser.parse_args(argv[argv.index("train") + 1 :], namespace=namespace)
    return {destination for destination, value in vars(namespace).items() if value is not unset}


def _train_config(args):
    """The `TrainConfig` of a `kcolor train` command line; with --resume, based on the run's config.json."""
    import dataclasses

    from kcolor.training_config import TrainConfig, read_run_config

    fields = _config_fields(args, vars(args))
    saved = read_run_config(args.out) if args.resume else None
    if saved is not None:
        known = {field.name for field in dataclasses.fields(TrainConfig)}
        argv = getattr(args, "argv", None)
        explicit = _config_fields(args, _explicit_destinations(argv)) if argv is not None else fields
        fields = {**{k: v for k, v in saved.items() if k in known}, **explicit, "out": args.out, "resume": True}
    return TrainConfig(**fields)


def _run_train(args):
    from kcolor.training import train

    try:
        result = train(_train_config(args))
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


def _add_colorize_parser(subparsers):
    parser = subparsers.add_parser(
        "colorize",
        help="colorize photos of any size (with the shipped photo colorizer, or a generator you trained)",
        description="Colorize photos (files or folders) at full resolution: the generator runs at --render-size, "
        "its color is upsampled and combined with each photo's own lightness. "
        f"'{EXAMPLE_PREFIX}NAME' names a photo that scikit-image or matplotlib ships "
        f"(e.g. {EXAMPLE_PREFIX}chelsea, {EXAMPLE_PREFIX}grace_hopper).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, or example:NAME")
    parser.add_argument("--model", default="pretrained",
                        help="a run folder, a generator .keras file, or pretrained[:NAME] (default: the photo "
                        "colorizer shipped with kcolor)")
    parser.add_argument("--out-dir", default="colorized", help="output folder (default: colorized)")
    parser.add_argument("--render-size", type=_positive_int,
                        help="longer side at which the generator runs (default: the shipped model's measured "
                        "best, a run's training size, or 256; never above the photo's own size)")
    parser.set_defaults(run=_run_colorize)
    return parser


def _example_photo(name):
    """Path of a photo that an installed package ships: scikit-image's data folder or matplotlib's samples."""
    import matplotlib
    import skimage.data

    folders = [Path(skimage.data.data_dir), Path(matplotlib.get_data_path()) / "sample_data"]
    if name.replace("_", "").replace("-", "").isalnum():  # a plain name, never a path or a pattern
        for folder in folders:
            for path in sorted(folder.glob(f"{name}.*")):
                return path
    known = sorted({p.stem for folder in folders for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg")})
    raise FileNotFoundError(f"no example photo named {name!r}; examples: {', '.join(known)}")


def _folder_images(folder, out_dir):
    """Image files below `folder` (sorted), skipping hidden entries and `out_dir`; with what was left out.

    Returns:
        `(files, other_file_count, unlisted_folders)`: the images, the number of other (non-hidden) files,
        and `(folder, reason)` for subfolders that could not be listed.
    """
    files, other_count, unlisted = [], 0, []
    skip = out_dir.resolve()
    walk = os.walk(folder, onerror=lambda error: unlisted.append((Path(error.filename), error.strerror)))
    for directory, subdirectories, names in walk:
        subdirectories[:] = [
            name for name in subdirectories if not name.startswith(".") and Path(directory, name).resolve() != skip
        ]
        for name in names:
            if name.startswith("."):
                continue
            if name.lower().endswith(COLORIZE_EXTENSIONS):
                files.append(Path(directory, name))
            else:
                other_count += 1
    return sorted(files), other_count, unlisted


def _input_files(inputs, out_dir):
    """Expands inputs into `(path, error)` pairs: folders to their image files, example:NAME to its file."""
    for item in inputs:
        if item.startswith(EXAMPLE_PREFIX):
            try:
                yield _example_photo(item[len(EXAMPLE_PREFIX):]), None
            except FileNotFoundError as error:
                yield Path(item), str(error)
            continue
        path = Path(item)
        if not path.is_dir():
            yield path, None
            continue
        files, other_count, unlisted = _folder_images(path, out_dir)
        for folder, reason in unlisted:
            yield folder, f"cannot list this folder: {reason}"
        if other_count:
            print(f"note: {path}: left out {other_count} files that are not images ({', '.join(COLORIZE_EXTENSIONS)})",
                  file=sys.stderr)
        if not files and not unlisted:
            yield path, "folder holds no images (" + ", ".join(COLORIZE_EXTENSIONS) + ")"
        for file in files:
            yield file, None


def _output_path(out_dir, source, used):
    stem = source.stem
    candidate = out_dir / f"{stem}_colorized.png"
    counter = 2
    while candidate in used:
        candidate = out_dir / f"{stem}_{counter}_colorized.png"
        counter += 1
    used.add(candidate)
    return candidate


def _render_size(args):
    if args.render_size:
        return args.render_size
    from kcolor.model_files import default_render_size

    return default_render_size(args.model)


def _prepare_output_folder(out_dir):
    """Creates `out_dir` and checks it is writable; raises `OSError` with a one-line message."""
    from kcolor.callbacks import create_folder

    create_folder(out_dir, "output folder")
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(errno.EACCES, f"cannot write to output folder {out_dir}: permission denied")


def _colorize_one(generator, source, target, render_size):
    """Colorizes `source` into the PNG `target` (atomically); returns None or the reason it failed."""
    from PIL import Image

    from kcolor.callbacks import atomic_write
    from kcolor.colorize import colorize_photo
    from kcolor.data import ImageReadError, read_image

    try:
        photo = read_image(source)
        colorized = colorize_photo(generator, photo, render_size=render_size)
    except ImageReadError as error:
        return error.reason
    except Exception as error:
        from kcolor.training import is_out_of_memory

        if is_out_of_memory(error):
            return "out of memory while colorizing it: try a smaller photo, or run on the CPU (CUDA_VISIBLE_DEVICES=)"
        if isinstance(error, ValueError):
            return f"cannot colorize it: {_one_line(error)}"
        raise
    try:
        # compress level 1: a 12-megapixel PNG takes a fraction of a second instead of seconds, a little larger
        save = lambda temporary: Image.fromarray(colorized).save(temporary, format="PNG", compress_level=1)  # noqa: E731
        atomic_write(target, save)
    except OSError as error:
        if error.errno in _OUTPUT_FOLDER_ERRORS:
            raise OSError(
                error.errno, f"cannot write {target}: {error.strerror or error}; stopping (free some space or "
                "choose another --out-dir)"
            ) from None
        return f"cannot write {target}: {error.strerror or error}"
    return None


def _run_colorize(args):
    from kcolor.model_files import load_generator

    out_dir = Path(args.out_dir)
    _prepare_output_folder(out_dir)
    generator = load_generator(args.model)
    render_size = _render_size(args)

    used, failures, written = set(), 0, 0
    for source, problem in _input_files(args.inputs, out_dir):
        if problem is None:
            target = _output_path(out_dir, source, used)
            if target.resolve() == source.resolve():
                problem = "output would overwrite the input; choose another --out-dir"
            else:
                problem = _colorize_one(generator, source, target, render_size)
        if problem is None:
            print(f"{source} -> {target}")
            written += 1
        else:
            print(f"error: {source}: {problem}", file=sys.stderr)
            failures += 1
    print(f"{written} colorized, {failures} failed; outputs in {out_dir}")
    return 1 if failures else 0


def _add_evaluate_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="score a generator (or compare two) against the gray and ground-truth references",
        description="Evaluate generators on a dataset split: pixel accuracy (Nazeri et al.), PSNR, SSIM, "
        "colorfulness, ab-error AuC and FID (when Inception weights can be had), with gray and ground-truth "
        "reference rows. Writes metrics.json, report.md and figures.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", help="a run folder or a generator .keras file")
    target.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="two runs side by side")
    parser.add_argument("--dataset", default="sample", help="dataset spec (default: sample)")
    parser.add_argument("--split", default="validation", help="split to evaluate (default: validation)")
    parser.add_argument("--image-size", type=_positive_int, help="default: the run's training size, or 32")
    parser.add_argument("--limit", type=_positive_int, default=1000, help="at most this many images (default 1000)")
    parser.add_argument("--json", help="also write the metrics JSON here")
    parser.add_argument("--out", help="report folder (default: RUN/evaluation, or evaluation/ for --compare)")
    parser.add_argument("--fid", action="store_true", help="also compute FID (downloads Inception weights once)")
    parser.add_argument("--judge", metavar="FILE",
                        help="also judge semantic interpretability with a classifier: a .keras file from `kcolor "
                        "judge train`, or imagenet:ARCHITECTURE (e.g. imagenet:EfficientNetB0, Imagenette only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="TFDS data folder")
    parser.set_defaults(run=_run_evaluate)
    return parser


def _run_evaluate(args):
    from kcolor.data import class_names, load_arrays
    from kcolor.evaluation import DEFAULT_METRICS, evaluate_predictions, predict_all, write_report
    from kcolor.model_files import load_generator, run_config

    runs = [args.model] if args.model else list(args.compare)
    names = [Path(run).stem if Path(run).suffix == ".keras" else Path(run).name for run in runs]
    if len(set(names)) < len(names):
        names = [f"{name} ({index + 1})" for index, name in enumerate(names)]
    generators = {name: load_generator(run) for name, run in zip(names, runs)}
    image_size = args.image_size or (run_config(runs[0]) or {}).get("image_size") or 32
    images, labels = load_arrays(args.dataset, args.split, image_size, limit=args.limit, seed=args.seed,
                                 data_dir=args.data_dir)
    if len(images) == 0:
        raise ValueError(f"{args.dataset} split {args.split!r} has no usable images.")
    metrics = DEFAULT_METRICS if args.fid else tuple(m for m in DEFAULT_METRICS if m != "fid")
    predictions = predict_all(generators, images)
    names_of_classes = class_names(args.dataset) if labels is not None else None
    judge = None
    if args.judge:
        from kcolor.evaluation.judge import judge_from_spec, readable_class_names

        if labels is None or (labels < 0).any():
            raise ValueError(f"--judge needs a labelled dataset; {args.dataset} has no class labels.")
        judge, names_of_classes = judge_from_spec(args.judge), readable_class_names(names_of_classes)
    report = evaluate_predictions(images, predictions, labels=labels, class_names=names_of_classes, metrics=metrics,
                                  judge=judge)
    default_out = Path(runs[0]) / "evaluation" if args.model and Path(runs[0]).is_dir() else Path("evaluation")
    out_dir = Path(args.out) if args.out else default_out
    histories = {name: Path(run) / "history.csv" for name, run in zip(names, runs) if (Path(run) / "history.csv").is_file()}
    written = write_report(report, out_dir, images, predictions, labels=labels, class_names=names_of_classes,
                           history_csv=histories or None, title=f"Colorization report: {args.dataset} {args.split}")
    print(report.to_markdown())
    if args.json:
        from kcolor.callbacks import atomic_write

        metrics_json = json.dumps(report.to_dict(), indent=2)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(args.json, lambda temporary: Path(temporary).write_text(metrics_json))
        print(f"Metrics JSON: {args.json}")
    print(f"Report: {written['report']}")
    return 0


def build_parser():
    from kcolor.cli_judge import add_judge_parser

    parser = argparse.ArgumentParser(
        prog="kcolor",
        description="Image colorization with conditional GANs (Nazeri et al. 2018) in Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.command_parsers = {
        "train": _add_train_parser(subparsers),
        "colorize": _add_colorize_parser(subparsers),
        "evaluate": _add_evaluate_parser(subparsers),
        "judge": add_judge_parser(subparsers),
    }
    return parser


def main(argv=None):
    """Entry point of the `kcolor` console command; returns the exit status."""
    from kcolor.quiet import quiet_tensorflow_startup

    args = build_parser().parse_args(argv)  # (--help and usage errors exit here, before anything heavy loads)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    try:
        quiet_tensorflow_startup()  # TensorFlow's C++ start-up lines stay off stderr; real errors still show
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, MemoryError) as error:  # user-caused: options, files, data, downloads, sizes
        print(f"kcolor {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2


def _one_line(error):
    """An exception as one line: `OSError`s without their `[Errno N]` prefix, newlines folded."""
    if isinstance(error, OSError) and error.strerror:
        message = error.strerror if error.filename is None else f"{error.filename}: {error.strerror}"
    else:
        message = str(error) or type(error).__name__
    return " ".join(message.split())


if __name__ == "__main__":
    sys.exit(main())

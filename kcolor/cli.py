"""The command line: `kcolor train`, `kcolor colorize` and `kcolor evaluate` (also `python -m kcolor ...`).

Errors a user can cause (a bad option, an unreadable photo, a missing model, no internet for a download) end
with a one-line message and a non-zero exit status, not a traceback.
"""

import argparse
import json
import os
import sys
from pathlib import Path

EXAMPLE_PREFIX = "example:"


def _positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or positive, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _add_train_parser(subparsers):
    from kcolor.models import PRESETS

    parser = subparsers.add_parser(
        "train",
        help="train a colorization GAN (or the L1-only U-Net) into a run folder",
        description="Train a colorization GAN on a dataset and write the generator, checkpoints, history.csv, "
        "per-epoch sample grids and TensorBoard logs into --out.",
    )
    parser.add_argument("--dataset", default="sample",
                        help="sample (offline photos), a TFDS name (cifar10, places365_small, ...), folder:PATH "
                        "or npz:PATH (default: sample)")
    parser.add_argument("--val-dataset", help="validation data spec (default: the validation split of --dataset)")
    parser.add_argument("--preset", default="nazeri-cifar", choices=sorted(PRESETS), help="architecture")
    parser.add_argument("--image-size", type=_positive_int, help="training crop size (default: the preset's)")
    parser.add_argument("--width-multiplier", type=_positive_float, default=1.0,
                        help="scale every block's filters, e.g. 0.25 for a CPU-sized model")
    parser.add_argument("--epochs", type=_non_negative_int, default=15)
    parser.add_argument("--batch-size", type=_positive_int, help="default: the preset's (the paper's)")
    parser.add_argument("--steps-per-epoch", type=_positive_int, help="limit the batches per epoch")
    parser.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    parser.add_argument("--l1-only", action="store_true", help="train the L1-only U-Net baseline, no GAN")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--mixed-precision", nargs="?", const="auto", default="off",
                        choices=["off", "auto", "bfloat16", "float16"],
                        help="mixed precision; bare flag: float16 on a GPU, bfloat16 otherwise")
    parser.add_argument("--generator-steps", type=_positive_int, default=1,
                        help="generator updates per discriminator update (the paper's code: 2)")
    parser.add_argument("--l1-weight", type=float, default=100.0, help="lambda of the L1 term (default 100)")
    parser.add_argument("--learning-rate", type=_positive_float, default=2e-4, help="Adam learning rate of G and D")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="TFDS data folder (default: the project's data/)")
    parser.add_argument("--no-jit", action="store_true", help="do not XLA-compile the train step")
    parser.set_defaults(run=_run_train)


def _run_train(args):
    from kcolor.training import TrainConfig, train

    config = TrainConfig(
        out=args.out,
        dataset=args.dataset,
        val_dataset=args.val_dataset,
        preset=args.preset,
        image_size=args.image_size,
        width_multiplier=args.width_multiplier,
        epochs=args.epochs,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps_per_epoch,
        l1_only=args.l1_only,
        generator_learning_rate=args.learning_rate,
        discriminator_learning_rate=args.learning_rate,
        l1_weight=args.l1_weight,
        generator_steps=args.generator_steps,
        mixed_precision=args.mixed_precision,
        jit_compile=not args.no_jit,
        seed=args.seed,
        resume=args.resume,
        data_dir=args.data_dir,
    )
    result = train(config)
    print(f"Run folder:       {result.run_dir}")
    print(f"Generator:        {result.generator_path}  (kcolor colorize PHOTO --model {result.run_dir})")
    print(f"History:          {result.history_path}")
    print(f"Sample grids:     {result.samples_dir}/epoch_NNN.png  (gray | prediction | truth)")
    print(f"Checkpoint:       {result.run_dir / 'checkpoint'}  (resume with --resume)")
    if (result.run_dir / "logs").exists():
        print(f"TensorBoard logs: {result.run_dir / 'logs'}  (tensorboard --logdir {result.run_dir / 'logs'})")
    if result.stopped_early_reason:
        print(result.stopped_early_reason, file=sys.stderr)
        return 1
    return 0


def _add_colorize_parser(subparsers):
    parser = subparsers.add_parser(
        "colorize",
        help="colorize photos of any size with a trained generator",
        description="Colorize photos (files or folders) at full resolution: the generator runs at --render-size, "
        "its color is upsampled and combined with each photo's own lightness. "
        f"'{EXAMPLE_PREFIX}NAME' names a photo that scikit-image or matplotlib ships "
        f"(e.g. {EXAMPLE_PREFIX}chelsea, {EXAMPLE_PREFIX}grace_hopper).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, or example:NAME")
    parser.add_argument("--model", required=True, help="a run folder or a generator .keras file")
    parser.add_argument("--out-dir", default="colorized", help="output folder (default: colorized)")
    parser.add_argument("--render-size", type=_positive_int,
                        help="longer side at which the generator runs (default: twice the run's training size, "
                        "or 256)")
    parser.set_defaults(run=_run_colorize)


def _example_photo(name):
    """Path of a photo that an installed package ships: scikit-image's data folder or matplotlib's samples."""
    import matplotlib
    import skimage.data

    folders = [Path(skimage.data.data_dir), Path(matplotlib.get_data_path()) / "sample_data"]
    for folder in folders:
        for path in sorted(folder.glob(f"{name}.*")):
            return path
    known = sorted({p.stem for folder in folders for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg")})
    raise FileNotFoundError(f"no example photo named {name!r}; examples: {', '.join(known)}")


def _input_files(inputs):
    """Expands inputs into `(path, error)` pairs: folders to their image files, example:NAME to its file."""
    from kcolor.data import IMAGE_EXTENSIONS

    for item in inputs:
        if item.startswith(EXAMPLE_PREFIX):
            try:
                yield _example_photo(item[len(EXAMPLE_PREFIX):]), None
            except FileNotFoundError as error:
                yield Path(item), str(error)
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not files:
                yield path, "folder holds no images (" + ", ".join(IMAGE_EXTENSIONS) + ")"
            for file in files:
                yield file, None
        else:
            yield path, None


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
    from kcolor.model_files import run_config

    image_size = (run_config(args.model) or {}).get("image_size")
    return 2 * int(image_size) if image_size else 256


def _run_colorize(args):
    from PIL import Image

    from kcolor.callbacks import atomic_write
    from kcolor.colorize import colorize_photo
    from kcolor.data import ImageReadError, read_image
    from kcolor.model_files import load_generator

    generator = load_generator(args.model)
    render_size = _render_size(args)
    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create output folder {out_dir}: {error.strerror or error}") from None
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(f"cannot write to output folder {out_dir}: permission denied")

    used, failures, written = set(), 0, 0
    for source, problem in _input_files(args.inputs):
        if problem is None:
            target = _output_path(out_dir, source, used)
            if target.resolve() == source.resolve():
                problem = "output would overwrite the input; choose another --out-dir"
        if problem is None:
            try:
                photo = read_image(source)
                colorized = colorize_photo(generator, photo, render_size=render_size)
                atomic_write(target, lambda temporary: Image.fromarray(colorized).save(temporary, format="PNG"))
                print(f"{source} -> {target}")
                written += 1
                continue
            except ImageReadError as error:
                problem = error.reason
            except OSError as error:
                problem = f"cannot write {target}: {error.strerror or error}"
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="TFDS data folder")
    parser.set_defaults(run=_run_evaluate)


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
    report = evaluate_predictions(images, predictions, labels=labels, class_names=names_of_classes, metrics=metrics)
    default_out = Path(runs[0]) / "evaluation" if args.model and Path(runs[0]).is_dir() else Path("evaluation")
    out_dir = Path(args.out) if args.out else default_out
    histories = {name: Path(run) / "history.csv" for name, run in zip(names, runs) if (Path(run) / "history.csv").is_file()}
    written = write_report(report, out_dir, images, predictions, labels=labels, class_names=names_of_classes,
                           history_csv=histories or None, title=f"Colorization report: {args.dataset} {args.split}")
    print(report.to_markdown())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
        print(f"Metrics JSON: {args.json}")
    print(f"Report: {written['report']}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kcolor",
        description="Image colorization with conditional GANs (Nazeri et al. 2018) in Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(subparsers)
    _add_colorize_parser(subparsers)
    _add_evaluate_parser(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `kcolor` console command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as error:  # user-caused: bad options, files, data, downloads
        print(f"kcolor {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

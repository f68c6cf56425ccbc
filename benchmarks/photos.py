"""Photo runs for docs/RESULTS.md: split Imagenette by class, train the photo recipe, judge it.

The development copy of Imagenette (`../shared/data/imagenette/train/<wnid>/*.JPEG`) has one folder, `train/`.
`split` carves it, class by class, into three parts and writes them as trees of symbolic links that `folder:`
datasets read:

    python -m benchmarks.photos split --source ../shared/data/imagenette/train --out runs/photo/data

    runs/photo/data/final/train/<wnid>/       85 %: what every photo run trains on
    runs/photo/data/final/validation/<wnid>/  10 %: the final table only; no run or choice ever sees it
    runs/photo/data/select/train/<wnid>/      the same training files (links again)
    runs/photo/data/select/validation/<wnid>/ 5 %: the selection split, for choosing settings and in-fit validation

Within each class the files are ordered by the SHA-1 of their relative path, and the first 10 % (rounded) go
to validation, the next 5 % to selection: stratified by class, deterministic, independent of the machine.

The other subcommands, each a few lines around kcolor's own API:

    python -m benchmarks.photos score --data folder:runs/photo/data/final --judge runs/photo/judge/judge.keras \
        --model "L1-only U-Net=runs/photo/l1" --model "GAN=runs/photo/gan" --figures docs/photo --json m.json
    python -m benchmarks.photos render --data folder:runs/photo/data/select --judge J --model runs/photo/gan
    python -m benchmarks.photos speed --model pretrained
    python -m benchmarks.photos overview --data folder:runs/photo/data/final --out docs/photo_overview.png

`score` is the final table (gray | models | truth on the validation photos at 128 px, with the judge's
accuracy and gap closed). `render` colorizes photos at their full resolution (224 px for Imagenette) with the
generator running at several render sizes, to choose a model's default. `speed` times `colorize_photo` and the
whole `kcolor colorize` command on a 12-megapixel photo.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kcolor.data.folder import list_image_files

METRICS = ("accuracy", "auc", "psnr", "ssim", "colorfulness", "checkerboard")

VALIDATION_SHARE = 0.10
SELECTION_SHARE = 0.05


def split_by_class(source):
    """`{"train": [...], "validation": [...], "selection": [...]}` of `(class, path)`, stratified by class."""
    source = Path(source)
    by_class = {}
    for path in list_image_files(source):
        by_class.setdefault(path.parent.name, []).append(path)
    parts = {"train": [], "validation": [], "selection": []}
    for name, paths in sorted(by_class.items()):
        ordered = sorted(paths, key=lambda p: hashlib.sha1(p.relative_to(source).as_posix().encode()).hexdigest())
        validation = round(len(ordered) * VALIDATION_SHARE)
        selection = round(len(ordered) * SELECTION_SHARE)
        parts["validation"] += [(name, p) for p in ordered[:validation]]
        parts["selection"] += [(name, p) for p in ordered[validation : validation + selection]]
        parts["train"] += [(name, p) for p in ordered[validation + selection :]]
    return parts


def write_links(files, folder):
    """Links `folder/<class>/<file name>` to each `(class, path)` of `files`."""
    for name, path in files:
        target = Path(folder) / name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.symlink(path.resolve(), target)


def write_split(source, out):
    parts = split_by_class(source)
    out = Path(out)
    write_links(parts["train"], out / "final" / "train")
    write_links(parts["validation"], out / "final" / "validation")
    write_links(parts["train"], out / "select" / "train")
    write_links(parts["selection"], out / "select" / "validation")
    print(f"{out}: " + ", ".join(f"{len(files)} {part}" for part, files in parts.items()))
    return parts


def named_models(pairs):
    """`["GAN=runs/gan", "runs/l1"]` -> `{"GAN": "runs/gan", "l1": "runs/l1"}`."""
    models = {}
    for pair in pairs:
        name, separator, path = pair.partition("=")
        if not separator:
            name, path = Path(pair).stem if pair.endswith(".keras") else Path(pair).name, pair
        models[name] = path
    return models


def score(data, models, judge_file, image_size=128, figures=None, json_path=None, count=6):
    """The final table: every model on the validation split of `data`, with the judge, gray and truth rows."""
    from kcolor.data import class_names, load_arrays
    from kcolor.evaluation import comparison_grid, evaluate_predictions, loss_curves, predict_all
    from kcolor.evaluation.judge import load_judge, readable_class_names
    from kcolor.model_files import load_generator

    images, labels = load_arrays(data, "validation", image_size)
    names = readable_class_names(class_names(data))
    predictions = predict_all({name: load_generator(path) for name, path in models.items()}, images)
    report = evaluate_predictions(
        images, predictions, labels=labels, class_names=names, metrics=METRICS, judge=load_judge(judge_file),
        verbose=False,
    )  # fmt: skip
    print(f"{len(images)} validation photos at {image_size} px")
    print(report.table_markdown())
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if figures:
        Path(figures).mkdir(parents=True, exist_ok=True)
        comparison_grid(images, predictions, count=count, seed=0, labels=labels, class_names=names,
                        path=Path(figures) / "photo_comparison.png")  # fmt: skip
        histories = {name: Path(path) / "history.csv" for name, path in models.items()
                     if (Path(path) / "history.csv").is_file()}  # fmt: skip
        if histories:
            loss_curves(histories, path=Path(figures) / "photo_loss_curves.png")
    return report


def render_sizes(data, model, judge_file, sizes=(64, 128, 192, 224), limit=None):
    """Scores `model` on the validation photos of `data` at their full resolution, rendered at each size."""
    from kcolor.colorize import colorize_photo
    from kcolor.data import load_arrays
    from kcolor.data.images import read_image
    from kcolor.evaluation import evaluate_predictions
    from kcolor.evaluation.judge import load_judge
    from kcolor.model_files import load_generator

    files = sorted(path for path in list_image_files(Path(data.partition(":")[2]) / "validation"))
    side = min(read_image(files[0]).shape[:2])  # Imagenette: 224 x 224, the full resolution
    images, labels = load_arrays(data, "validation", side, limit=limit)
    generator = load_generator(model)
    predictions = {
        f"render {size}": np.stack([colorize_photo(generator, image, render_size=size) for image in images])
        for size in sizes
    }
    report = evaluate_predictions(images, predictions, labels=labels, metrics=METRICS, judge=load_judge(judge_file),
                                  verbose=False)  # fmt: skip
    print(f"{model}: {len(images)} photos at {side} px (full resolution), generator at each render size")
    print(report.table_markdown())
    return report


def speed(model="pretrained", megapixels=12, repeats=5):
    """Seconds to colorize a `megapixels` photo: `colorize_photo` alone, and the whole `kcolor colorize`."""
    from PIL import Image
    from skimage import data as examples

    from kcolor.colorize import colorize_photo
    from kcolor.model_files import default_average_flips, default_render_size, load_generator

    width = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    photo = np.asarray(Image.fromarray(examples.chelsea()).resize((width, height), Image.Resampling.BICUBIC))
    generator = load_generator(model)
    render_size, flips = default_render_size(model), default_average_flips(model)
    colorize_photo(generator, photo, render_size, flips)  # compile and warm up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        colorize_photo(generator, photo, render_size, flips)
        seconds.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "photo.jpg"
        Image.fromarray(photo).save(source, quality=92)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kcolor", "colorize", str(source), "--model", model,
                        "--out-dir", folder], check=True, capture_output=True)  # fmt: skip
        command = time.perf_counter() - start
    result = {
        "photo": f"{width}x{height} ({width * height / 1e6:.1f} MP)", "render_size": render_size, "average_flips": flips,
        "colorize_photo_s_median": statistics.median(seconds), "colorize_photo_s": seconds,
        "kcolor_colorize_command_s": command,
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    return result


def overview(data, model, path, classes=6, per_row=2):
    """The README's picture: gray | model | truth at full resolution, the first validation photo of each class.

    Photos are taken in a fixed order (the first of each class by file name), not chosen by how they look.
    """
    from kcolor.colorize import colorize_photo
    from kcolor.data import class_names, load_arrays
    from kcolor.evaluation.figures import finish_figure, image_grid, show_image
    from kcolor.evaluation.judge import readable_class_names
    from kcolor.evaluation.lab import gray_reference
    from kcolor.model_files import default_average_flips, default_render_size, load_generator

    images, labels = load_arrays(data, "validation", 224)
    names = readable_class_names(class_names(data))
    chosen = [int(np.flatnonzero(labels == label)[0]) for label in sorted(set(labels.tolist()))[:classes]]
    generator, render_size, flips = load_generator(model), default_render_size(model), default_average_flips(model)
    triples = [(gray_reference(images[[i]])[0], colorize_photo(generator, images[i], render_size, flips), images[i])
               for i in chosen]  # fmt: skip
    rows = (len(triples) + per_row - 1) // per_row
    figure, axes = image_grid(rows, 3 * per_row, cell_inches=2.3)
    for index, (triple, image_index) in enumerate(zip(triples, chosen)):
        row, first = divmod(index, per_row)
        for offset, (image, title) in enumerate(zip(triple, ("gray", "kcolor's photo model", "truth"))):
            label = names[labels[image_index]] if offset == 0 and names else None
            show_image(axes[row, 3 * first + offset], image, title=title if row == 0 else None, row_label=label)
    return finish_figure(figure, path)


def float32_generator(trained, preset, width_multiplier):
    """`trained`'s weights in a generator built under the float32 policy, whatever the caller's policy is.

    A generator trained in mixed precision computes in bfloat16; this copy computes in float32 on any CPU (a
    mixed-bfloat16 model would crawl without native bfloat16), as shipped and starting files should.
    """
    import keras

    from kcolor.models import build_generator

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        generator = build_generator(preset, width_multiplier=width_multiplier)
    finally:
        keras.config.set_dtype_policy(previous)
    generator.set_weights(trained.get_weights())
    return generator


def package(run, out_folder, facts, generator_file=None):
    """Writes a run's generator as a shipped colorizer: `NAME.keras` (float32 weights) and `NAME.json`.

    The generator is rebuilt under the float32 policy and given the run's weights, so it computes in float32 on
    any CPU (a mixed-bfloat16 model would crawl without native bfloat16). `facts` (name, render size, metrics,
    command, hardware, ...) are merged with the run's config. `generator_file` (a `.keras` file: one epoch's, or an
    average from `benchmarks.photo_soup`) ships instead of the run's final generator; the run still gives the
    config, so it must have the same architecture.
    """
    from kcolor.model_files import load_generator, run_config

    config = run_config(run)
    trained = load_generator(generator_file or run)
    generator = float32_generator(trained, config["preset"], config["width_multiplier"])
    probe = np.random.default_rng(0).uniform(-1, 1, (1, 64, 64, 1)).astype(np.float32)
    difference = np.abs(np.asarray(generator(probe)) - np.asarray(trained(probe), np.float32)).max()
    name = facts["name"]
    out_folder = Path(out_folder)
    out_folder.mkdir(parents=True, exist_ok=True)
    generator.save(out_folder / f"{name}.keras")
    keys = ("preset", "image_size", "width_multiplier", "batch_size", "epochs", "l1_warmup_epochs", "l1_weight",
            "generator_ema", "seed", "dataset")  # fmt: skip
    optional = {"chroma_weight": 0.0, "chroma_penalty": "absolute"}  # absent from runs made before the term
    info = {**{key: config[key] for key in keys}, **{key: config.get(key, value) for key, value in optional.items()},
            **facts}  # fmt: skip
    (out_folder / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n")
    size = (out_folder / f"{name}.keras").stat().st_size
    print(f"{out_folder / name}.keras: {size / 1e6:.1f} MB, float32 vs trained max difference {difference:.4f}")
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.photos", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    split = commands.add_parser("split", help="carve train / validation / selection link trees, by class")
    split.add_argument("--source", required=True, help="folder of class folders, e.g. ../shared/data/imagenette/train")
    split.add_argument("--out", required=True)
    scoring = commands.add_parser("score", help="the final table on the validation photos, with the judge")
    rendering = commands.add_parser("render", help="score one model at several render sizes, full resolution")
    for command in (scoring, rendering):
        command.add_argument("--data", required=True, help="folder: spec whose validation split is scored")
        command.add_argument("--judge", required=True, help="judge .keras file (kcolor judge train)")
        command.add_argument("--model", action="append", required=True, metavar="[NAME=]RUN")
    scoring.add_argument("--figures", help="folder for photo_comparison.png and photo_loss_curves.png")
    scoring.add_argument("--json", help="write the report's JSON here")
    rendering.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 192, 224])
    picture = commands.add_parser("overview", help="the README picture: gray | model | truth, full resolution")
    picture.add_argument("--data", required=True)
    picture.add_argument("--model", default="pretrained")
    picture.add_argument("--out", required=True, help="PNG file")
    timing = commands.add_parser("speed", help="time colorizing a 12-megapixel photo")
    timing.add_argument("--model", default="pretrained")
    timing.add_argument("--megapixels", type=float, default=12)
    args = parser.parse_args(argv)
    if args.command == "split":
        write_split(args.source, args.out)
    elif args.command == "score":
        score(args.data, named_models(args.model), args.judge, figures=args.figures, json_path=args.json)
    elif args.command == "render":
        for model in args.model:
            render_sizes(args.data, model, args.judge, sizes=args.sizes)
    elif args.command == "overview":
        overview(args.data, args.model, args.out)
    else:
        speed(args.model, args.megapixels)


if __name__ == "__main__":
    main()

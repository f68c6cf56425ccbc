"""The photo colorizer's goals at the photos' own size: blobs, colorfulness and PSNR, with bootstrap intervals.

Every model colorizes the validation photos as `kcolor colorize` does (`kcolor.colorize.colorize_photo`: the
generator at its render size, the photo's own lightness at full resolution), here 224-px center crops. For each
model the table gives the share of photos with a painted blob (`kcolor.evaluation.blobs`), the colorfulness as a
share of the real photos', and the PSNR against gray's, each with a 95 % bootstrap interval over the photos (the
same resamples for every row, so differences between rows are paired). It also lists the photos with the worst
blocks and where in the frame the blob blocks sit, and can draw the worst ones.

    python -m benchmarks.photo_blobs --data folder:runs/photo/data/final --model pretrained \
        --model new=runs/photo/gan3 --model new+flips=runs/photo/gan3 --json benchmarks/results/photo-blobs.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESAMPLES = 2000


def colorize_all(model, images, render_size=None, average_flips=False):
    """Every photo colorized by `model` (a run folder, a `.keras` file or `pretrained`), as `kcolor colorize` does.

    Args:
        model: A run folder, a generator `.keras` file or `pretrained[:NAME]`.
        images: uint8 `(N, H, W, 3)` photos.
        render_size: The generator's render size; default: the model's (`default_render_size`).
        average_flips: Average the four mirror images' colors (`kcolor.colorize.colorize_photo`).

    Returns:
        uint8 `(N, H, W, 3)` colorizations.
    """
    from kcolor.colorize import colorize_photo
    from kcolor.model_files import default_render_size, load_generator

    generator = load_generator(model)
    render_size = render_size or default_render_size(model)
    return np.stack([colorize_photo(generator, image, render_size, average_flips) for image in images])


def bootstrap_interval(values_by_resample):
    """The 2.5th and 97.5th percentiles of a statistic over the resamples."""
    low, high = np.percentile(values_by_resample, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def score_models(images, colorizations, block_size=16, seed=0, judge=None, labels=None):
    """The goals' numbers for each model in `colorizations` (`{name: uint8 images}`), gray and truth included.

    With a `judge` (`kcolor.evaluation.judge.SemanticJudge`) and the photos' `labels`, each row also gets the
    judge's accuracy and the share of the gray-to-truth gap it closes, with bootstrap intervals (the same
    resamples for every row).
    """
    from kcolor.evaluation import colorfulness_per_image, gray_reference, per_image_scores
    from kcolor.evaluation.blobs import BLOB_CHROMA_EXCESS, block_chroma_excess

    rows = {"gray": gray_reference(images), **colorizations, "ground truth": images}
    resamples = np.random.default_rng(seed).integers(0, len(images), (RESAMPLES, len(images)))
    colorfulness = {name: colorfulness_per_image(colorized) for name, colorized in rows.items()}
    psnr_by_row = {name: per_image_scores("psnr", images, colorized) for name, colorized in rows.items()}
    real_colorfulness, gray_psnr = colorfulness["ground truth"], psnr_by_row["gray"]
    results = {"photos": len(images), "block_size": block_size, "threshold": BLOB_CHROMA_EXCESS,
               "real_colorfulness": round(float(real_colorfulness.mean()), 3), "models": {}}  # fmt: skip
    if judge is not None:
        from kcolor.evaluation.judge import MEASURES, semantic_interpretability

        judged = semantic_interpretability(judge, images, labels, colorizations)

        def gap_by_resample(measure, name):
            return judged.gap_by_resample(name, resamples, measure)

        results["judge_truth_gray"] = [round(judged.accuracy["ground truth"], 4), round(judged.accuracy["gray"], 4)]
        results["judge_probability_truth_gray"] = [
            round(judged.probability["ground truth"], 4), round(judged.probability["gray"], 4)
        ]
        models = list(colorizations)
        results["judge_differences"] = {
            f"{first} - {second}": {
                measure: bootstrap_interval(gap_by_resample(measure, first) - gap_by_resample(measure, second))
                for measure in MEASURES
            }
            for index, first in enumerate(models) for second in models[index + 1 :]
        }  # paired: the same resamples for both models
    for name, colorized in rows.items():
        excess = block_chroma_excess(images, colorized, block_size)
        worst = excess.max(axis=(1, 2))
        blob = worst > BLOB_CHROMA_EXCESS
        colorful, psnr = colorfulness[name], psnr_by_row[name]
        ratio = colorful[resamples].mean(axis=1) / real_colorfulness[resamples].mean(axis=1)
        blob_blocks = np.argwhere(excess > BLOB_CHROMA_EXCESS)  # (photo, row, column) of every blob block
        results["models"][name] = {
            "blob_rate": round(float(blob.mean()), 4),
            "blob_photos": int(blob.sum()),
            "blob_rate_interval": bootstrap_interval(blob[resamples].mean(axis=1)),
            "colorfulness": round(float(colorful.mean()), 3),
            "colorfulness_vs_real": round(float(colorful.mean() / real_colorfulness.mean()), 4),
            "colorfulness_vs_real_interval": bootstrap_interval(ratio),
            "psnr": round(float(psnr.mean()), 3),
            "psnr_minus_gray": round(float((psnr - gray_psnr).mean()), 3),
            "psnr_minus_gray_interval": bootstrap_interval((psnr - gray_psnr)[resamples].mean(axis=1)),
            "mean_blob_block_row_column": [round(float(v), 2) for v in blob_blocks[:, 1:].mean(axis=0)]
            if len(blob_blocks) else None,  # fmt: skip
            "blocks_per_side": [int(excess.shape[1]), int(excess.shape[2])],
            "worst_photos": [[int(i), round(float(worst[i]), 1)] for i in np.argsort(-worst)[:12]],
        }
        if judge is not None:
            results["models"][name].update(
                judge=round(judged.accuracy[name], 4),
                judge_gap=round(judged.gap_closed(name), 4),
                judge_gap_interval=bootstrap_interval(gap_by_resample("accuracy", name)),
                judge_probability=round(judged.probability[name], 4),
                judge_probability_gap=round(judged.gap_closed(name, "probability"), 4),
                judge_probability_gap_interval=bootstrap_interval(gap_by_resample("probability", name)),
                judge_correct=judged.correct[name].astype(np.int8).tolist(),
            )  # fmt: skip
    return results


def _classes(labels, class_names):
    """`(name, mask)` of each class in `labels`, in label order; a class without a name is called by its number."""
    labels = np.asarray(labels)
    for label in np.unique(labels):
        yield (class_names[label] if class_names else str(int(label))), labels == label


def colorfulness_by_class(images, colorizations, labels, class_names=None):
    """Each model's colorfulness as a share of the real photos', class by class: where the missing color is.

    Args:
        images: The true uint8 photos `(N, H, W, 3)`.
        colorizations: `{name: uint8 images}` of the same photos.
        labels: int class of each photo `(N,)`.
        class_names: Names for the class numbers; default: the numbers.

    Returns:
        `{class name: {"photos": count, "real_colorfulness": mean, name: colorfulness / real, ...}}`, the classes
        in order of their labels.
    """
    from kcolor.evaluation import colorfulness_per_image

    real = colorfulness_per_image(images)
    ratios = {name: colorfulness_per_image(colorized) for name, colorized in colorizations.items()}
    table = {}
    for name, members in _classes(labels, class_names):
        row = {"photos": int(members.sum()), "real_colorfulness": round(float(real[members].mean()), 3)}
        for model, colorfulness in ratios.items():
            row[model] = round(float(colorfulness[members].mean() / real[members].mean()), 4)
        table[name] = row
    return table


def hue_agreement_by_class(images, labels, class_names=None):
    """How much the photos of each class agree on their color's direction in the a*b* plane (1: all the same hue).

    Each photo's mean a*b* is a vector; a class's agreement is the length of the mean of its photos' vectors over the
    mean of their lengths (the mean resultant length, weighted by how colorful each photo is). Near 1 when a class
    comes in one hue (green grass under golf balls), lower when its photos point in different directions (red,
    yellow and green garbage trucks). A proxy for how much the class alone leaves the hue open.

    Args:
        images: uint8 `(N, H, W, 3)` photos.
        labels: int class of each photo `(N,)`.
        class_names: Names for the class numbers; default: the numbers.

    Returns:
        `{class name: agreement}`, the classes in order of their labels.
    """
    from kcolor.host_lab import lab_from_rgb8

    mean_ab = np.stack([lab_from_rgb8(image)[..., 1:].reshape(-1, 2).mean(axis=0) for image in images])
    agreement = {}
    for name, members in _classes(labels, class_names):
        vectors = mean_ab[members]
        lengths = np.linalg.norm(vectors, axis=1).mean()
        agreement[name] = round(float(np.linalg.norm(vectors.mean(axis=0)) / max(lengths, 1e-9)), 4)
    return agreement


def table_markdown(results):
    """The results as a Markdown table."""
    judged = "judge_gap" in next(iter(results["models"].values()))
    judge_columns = " judge gap closed | judge gap closed (probability) |"
    lines = ["| model | photos with a blob | colorfulness (× real) | PSNR − gray (dB) |" + (judge_columns if judged else ""),
             "|---|---|---|---|" + ("---|---|" if judged else "")]  # fmt: skip
    for name, row in results["models"].items():
        low, high = row["blob_rate_interval"]
        c_low, c_high = row["colorfulness_vs_real_interval"]
        p_low, p_high = row["psnr_minus_gray_interval"]
        lines.append(
            f"| {name} | {100 * row['blob_rate']:.1f} % ({row['blob_photos']}; {100 * low:.1f}-{100 * high:.1f}) "
            f"| {row['colorfulness']:.1f} = {row['colorfulness_vs_real']:.2f} ({c_low:.2f}-{c_high:.2f}) "
            f"| {row['psnr_minus_gray']:+.2f} ({p_low:+.2f} to {p_high:+.2f}) |"
            + (_percent_interval(row["judge_gap"], row["judge_gap_interval"])
               + _percent_interval(row["judge_probability_gap"], row["judge_probability_gap_interval"]) if judged else "")
        )
    for pair, intervals in results.get("judge_differences", {}).items():
        lines.append("")
        lines.append(f"Judge gap, {pair}: " + ", ".join(
            f"{measure} {100 * low:+.0f} to {100 * high:+.0f} points" for measure, (low, high) in intervals.items()
        ))  # fmt: skip
    return "\n".join(lines)


def _percent_interval(value, interval):
    return f" {100 * value:.0f} % ({100 * interval[0]:.0f} to {100 * interval[1]:.0f}) |"


def worst_grid(images, colorizations, indices, path):
    """Draws truth | each model for the photos at `indices` into `path` (a JPEG or PNG)."""
    from PIL import Image

    columns = [images, *colorizations.values()]
    rows = [np.concatenate([column[index] for column in columns], axis=1) for index in indices]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, quality=88)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset spec whose validation split is scored")
    parser.add_argument("--model", action="append", required=True, metavar="[NAME=]MODEL",
                        help="a model to score; repeat for more. A NAME ending in +flips averages the mirror images")
    parser.add_argument("--size", type=int, default=224, help="side of the center crops (default 224)")
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--render-size", type=int, help="default: each model's own (kcolor colorize's default)")
    parser.add_argument("--limit", type=int, help="score only the first LIMIT photos")
    parser.add_argument("--judge", help="a judge .keras file (kcolor judge train): adds the judge's gap closed")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worst", help="draw the worst photos of the first model here")
    parser.add_argument("--by-class", action="store_true", help="also each model's colorfulness class by class")
    args = parser.parse_args(argv)

    from benchmarks.photos import named_models
    from kcolor.data import load_arrays

    images, labels = load_arrays(args.data, "validation", args.size, limit=args.limit)
    models = named_models(args.model)
    colorizations = {name: colorize_all(path, images, args.render_size, name.endswith("+flips"))
                     for name, path in models.items()}  # fmt: skip
    judge = None
    if args.judge:
        from kcolor.evaluation.judge import load_judge

        judge = load_judge(args.judge)
    results = score_models(images, colorizations, args.block_size, judge=judge, labels=labels)
    print(f"{len(images)} validation photos at {args.size} px, {args.block_size}-px blocks")
    print(table_markdown(results))
    if args.by_class:
        from kcolor.data import class_names

        names = class_names(args.data)
        results["colorfulness_by_class"] = colorfulness_by_class(images, colorizations, labels, names)
        results["hue_agreement_by_class"] = agreement = hue_agreement_by_class(images, labels, names)
        print("| class | photos | real colorfulness | hue agreement | " + " | ".join(colorizations) + " |")
        print("|---|---|---|---|" + "---|" * len(colorizations))
        for name, row in results["colorfulness_by_class"].items():
            ratios = " | ".join(f"{row[model]:.2f}" for model in colorizations)
            print(f"| {name} | {row['photos']} | {row['real_colorfulness']:.1f} | {agreement[name]:.2f} | {ratios} |")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    if args.worst:
        first = next(iter(colorizations))
        indices = [index for index, _ in results["models"][first]["worst_photos"][:6]]
        worst_grid(images, colorizations, indices, args.worst)


if __name__ == "__main__":
    main()

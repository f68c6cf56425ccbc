"""kcolor's benchmark harness: train-step, input-pipeline and colorize throughput, as tables and JSON.

Usage (from the repository root; every option has a CPU-sized default):

    python -m benchmarks                                  # everything, TensorFlow and JAX, CPU-sized
    python -m benchmarks --sections train --backends jax --profile gpu     # the GPU measurements
    python -m benchmarks --sections pipeline --pipeline-revision HEAD      # input pipelines vs a GPU, A/B
    python -m benchmarks --help

Each Keras backend runs in its own worker process (`benchmarks.worker`), so one run measures both. In the
TensorFlow worker the same run also measures the reference: the TensorFlow pix2pix tutorial's train step
(`benchmarks.reference`) on the same networks and batch, and every kcolor row gets its ratio to it.
Every rate is measured `--repeats` times after a warm-up (compilation is timed separately) and reported as
median [min-max]. Train configurations of the same shape (preset, width, batch: the reference and every kcolor
variant) are built first and then timed *interleaved*, repeat by repeat, so that the load of a shared machine
shifts all of them alike. The machine, its load, the library versions and the exact command go into the JSON.

The `pipeline` section (`benchmarks.pipeline`) measures every dataset source as `load_dataset` serves it and as
`kcolor train` reads it, at the image size and batch of each `--targets` configuration, and sets each rate
against what a GPU would consume there: the FLOPs per image of the GAN step and of the L1-only step
(`benchmarks.flops`) at `--target-utilisation` of `--target-tflops` (default: 30 % of a T4's 65 TFLOP/s).
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import machine_info

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_NPZ = REPOSITORY.parent / "shared" / "data" / "cifar10_train_subset.npz"
DEFAULT_PHOTOS = REPOSITORY.parent / "shared" / "data" / "imagenette" / "train"
# The full-mode runs a GPU should never wait for: the course's CIFAR-10 run and the photo preset.
DEFAULT_TARGETS = "nazeri-cifar:1:32,photo-128:1:16"
DEFAULT_RESULTS = REPOSITORY / "benchmarks" / "results"
SECTIONS = ("peak", "flops", "train", "upsampling", "pipeline", "colorize", "fit")
PROFILES = {
    # preset:width:batch. On CPU the paper's batch sizes with narrower networks; on a GPU the paper's networks.
    "cpu": {
        "configs": "nazeri-cifar:0.25:128,nazeri-cifar:0.5:128,nazeri-places:0.25:16,pix2pix:0.25:16",
        "precisions": "float32,mixed_bfloat16",
    },
    "gpu": {
        "configs": "nazeri-cifar:1:128,nazeri-places:1:16,nazeri-places:1:32,nazeri-places:1:64,pix2pix:1:16",
        "precisions": "float32,mixed_float16,mixed_bfloat16",
    },
}


def parse_configs(text):
    """`"preset:width:batch,..."` to a list of `(preset, width, batch)`."""
    configs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            preset, width, batch = item.split(":")
            configs.append((preset, float(width), int(batch)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected preset:width:batch, got {item!r}") from None
    return configs


def _csv(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure kcolor's train step (against the TensorFlow pix2pix tutorial's), input pipeline "
        "and colorize_photo. Prints tables and writes JSON.",
    )
    parser.add_argument("--sections", type=_csv, default=list(SECTIONS), help=f"any of {','.join(SECTIONS)}")
    parser.add_argument("--backends", type=_csv, default=None,
                        help="Keras backends to measure (default: tensorflow,jax, those installed)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu",
                        help="default configurations and precisions: cpu (narrow networks) or gpu (the paper's)")
    parser.add_argument("--configs", type=parse_configs, default=None,
                        help="train configurations preset:width:batch,... (default: the profile's)")
    parser.add_argument("--xla", type=_csv, default=["on", "off"],
                        help="XLA settings for TensorFlow: on,off (JAX always compiles with XLA)")
    parser.add_argument("--precisions", type=_csv, default=None,
                        help="dtype policies: float32,mixed_bfloat16,mixed_float16 (default: the profile's)")
    parser.add_argument("--generator-steps", type=int, default=1, help="G updates per D update (default 1)")
    parser.add_argument("--no-reference", action="store_true", help="skip the tutorial-style reference step")
    parser.add_argument("--steps-revision", metavar="REV",
                        help="A/B: also time kcolor with the train step of git revision REV, interleaved")
    parser.add_argument("--xla-cost", action="store_true", default=True,
                        help=argparse.SUPPRESS)  # JAX: XLA's own FLOP count of the step (always on)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (default 5)")
    parser.add_argument("--steps", type=int, default=2, help="train steps per timed repeat (default 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed repeats after compiling (default 1)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="side of the peak matrix product")
    parser.add_argument("--pipeline-sources", type=_csv, default=["sample", "npz", "folder", "folder-uncached", "tfds"],
                        help="sample, npz, folder, folder-uncached, tfds (TFDS code path on mocked, real images)")
    parser.add_argument("--pipeline-paths", type=_csv, default=["load_dataset", "train"],
                        help="consumers: load_dataset (the tf.data pipeline), train (kcolor train's stream as fit "
                        "reads it: kcolor.training_data.fit_input)")
    parser.add_argument("--pipeline-configs", type=parse_configs, default=None,
                        help="preset:width:batch whose image size and batch the pipeline section measures "
                        "(default: --targets)")
    parser.add_argument("--pipeline-batches", type=int, default=20, help="batches per timed pipeline repeat")
    parser.add_argument("--pipeline-drain", type=int, default=12,
                        help="batches read untimed after the first pass, before the timed windows")
    parser.add_argument("--pipeline-rounds", type=int, default=2,
                        help="times each pipeline is built and measured (versions alternate: A, B, A, B)")
    parser.add_argument("--tfds-examples", type=int, default=None,
                        help="length of the mocked TFDS training split (default: the real one, e.g. 50,000 for "
                        "cifar10; the benchmark's images repeat); 0: just the images")
    parser.add_argument("--pipeline-images", type=int, default=1024, help="images in the npz/folder/tfds test data")
    parser.add_argument("--pipeline-revision", metavar="REV",
                        help="A/B: also build every pipeline with the kcolor package of git revision REV, timed "
                        "alternately in the same process")
    parser.add_argument("--npz", default=str(DEFAULT_NPZ),
                        help="CIFAR-10 images for the pipelines at 32 px (default: the shared CIFAR-10 subset if "
                        "present, else sample crops)")
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS),
                        help="folder of class folders of photos for the pipelines above 32 px (default: the shared "
                        "Imagenette copy if present, else sample crops)")
    parser.add_argument("--targets", type=parse_configs, default=parse_configs(DEFAULT_TARGETS),
                        help=f"train configurations preset:width:batch whose GPU consumption the pipelines must beat "
                        f"(default {DEFAULT_TARGETS})")
    parser.add_argument("--target-tflops", type=float, default=65.0,
                        help="peak of the GPU the targets assume, TFLOP/s (default 65: a T4's float16 tensor cores)")
    parser.add_argument("--target-utilisation", type=float, default=0.3,
                        help="share of that peak a train step is assumed to reach (default 0.3)")
    parser.add_argument("--target-name", default="Colab T4",
                        help="what the target GPU is called in the tables (default: Colab T4)")
    parser.add_argument("--colorize-megapixels", type=float, default=12.0)
    parser.add_argument("--colorize-preset", default="nazeri-places")
    parser.add_argument("--colorize-width", type=float, default=1.0)
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--colorize-repeats", type=int, default=3)
    parser.add_argument("--fit", type=parse_configs, default=None,
                        help="fit end to end on the npz pipeline: preset:width:batch (default: the first config)")
    parser.add_argument("--fit-steps", type=int, default=5, help="steps per fit epoch (default 5)")
    parser.add_argument("--json", default=None, help="where to write the JSON (default benchmarks/results/...)")
    parser.add_argument("--in-process", action="store_true",
                        help="measure in this process with its Keras backend only (quick runs and tests)")
    parser.add_argument("--timeout", type=int, default=6 * 3600, help="seconds per worker process")
    parser.add_argument("--report", metavar="JSON", help="only print the tables of an earlier run's JSON")
    return parser


# --------------------------------------------------------------------------------------------------------------
# Running tasks in worker processes.


def _installed(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_tasks(tasks, backend, in_process=False, timeout=None):
    """Runs a list of worker tasks with `backend`, in a fresh process unless `in_process`; returns results."""
    if in_process:
        from benchmarks.worker import run_task

        return [run_task(task) for task in tasks]
    results = []
    for task in tasks:
        with tempfile.TemporaryDirectory(prefix="kcolor-bench-") as directory:
            task_path, out_path = Path(directory) / "task.json", Path(directory) / "out.json"
            task_path.write_text(json.dumps(task))
            env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
            completed = subprocess.run(
                [sys.executable, "-m", "benchmarks.worker", str(task_path), str(out_path)],
                cwd=REPOSITORY, env=env, timeout=timeout, capture_output=True, text=True,
            )
            if completed.returncode != 0 or not out_path.exists():
                message = (completed.stderr or completed.stdout)[-3000:]
                print(f"[{backend}] {task['kind']} failed:\n{message}", file=sys.stderr)
                results.append({"error": message, "kind": task["kind"], "backend": backend})
            else:
                results.append(json.loads(out_path.read_text()))
    return results


def train_configs(args, backend):
    """The train measurements of one backend: kcolor per XLA x precision, and the reference (TensorFlow)."""
    configs = []
    for preset, width, batch in args.configs:
        base = {"preset": preset, "width": width, "batch": batch, "generator_steps": args.generator_steps}
        if backend == "tensorflow" and not args.no_reference:
            configs.append(dict(base, implementation="reference", xla=False, precision="float32", generator_steps=1))
        xla_settings = [True] if backend == "jax" else [setting == "on" for setting in args.xla]
        for xla in xla_settings:
            for precision in args.precisions:
                configs.append(dict(base, implementation="kcolor", xla=xla, precision=precision,
                                    xla_cost=backend == "jax" and precision == args.precisions[0]))
                if args.steps_revision:
                    configs.append(dict(base, implementation=f"kcolor@{args.steps_revision}", xla=xla,
                                        precision=precision, steps_revision=args.steps_revision))
    return configs


# --------------------------------------------------------------------------------------------------------------
# Derived numbers: ratios to the reference, utilisation, pipeline vs step.


def _median(rate):
    return rate["median"] if isinstance(rate, dict) else None


def add_derived(results):
    """Adds `ratio_to_reference` and `utilisation` to train rows and `pipeline_to_step` to pipeline rows."""
    train = [row for row in results.get("train", []) if "error" not in row]
    peaks = {}
    for row in results.get("peak", []):
        if "error" not in row:
            peaks[row["dtype"]] = max(peaks.get(row["dtype"], 0.0), _median(row["gflops_per_second"]))
    references = {
        (row["preset"], row["width"], row["batch"], row["image_size"]): _median(row["images_per_second"])
        for row in train if row["implementation"] == "reference"
    }
    for row in train:
        key = (row["preset"], row["width"], row["batch"], row["image_size"])
        reference = references.get(key)
        row["ratio_to_reference"] = _median(row["images_per_second"]) / reference if reference else None
        dtype = "bfloat16" if "bfloat16" in row["precision"] else "float32"
        peak = peaks.get(dtype)
        row["peak_gflops_per_second"] = peak
        row["utilisation"] = row["gflops_per_second"] / peak if peak and row["gflops_per_second"] else None
    fastest = {}
    for row in train:
        if row["implementation"] == "kcolor":
            key = (row["image_size"], row["batch"])
            if _median(row["images_per_second"]) > fastest.get(key, (0.0, None))[0]:
                fastest[key] = (_median(row["images_per_second"]), row)
    targets = {(row["image_size"], row["batch"]): row for row in results.get("targets", [])}
    pipeline = [row for row in results.get("pipeline", []) if "error" not in row]
    for row in pipeline:
        step = fastest.get((row["image_size"], row["batch"]))
        row["fastest_step_images_per_second"] = step[0] if step else None
        row["pipeline_to_step"] = _median(row["images_per_second"]) / step[0] if step else None
        target = targets.get((row["image_size"], row["batch"]))
        row["target_images_per_second"] = target["fastest_images_per_second"] if target else None
        for key, rate in (("pipeline_to_target", _median(row["images_per_second"])),
                          ("cpu_rate_to_target", _median(row.get("images_per_cpu_second"))),
                          ("first_pass_to_target", row.get("first_pass_images_per_second")),
                          ("first_pass_cpu_rate_to_target", row.get("first_pass_images_per_cpu_second"))):
            row[key] = rate / target["fastest_images_per_second"] if target and rate else None
    versions = {}
    for row in pipeline:
        versions.setdefault((row["source"], row.get("path"), row["image_size"], row["batch"]), {})[
            row.get("version", "working tree")] = row
    for by_version in versions.values():
        current = by_version.get("working tree")
        for label, other in by_version.items():
            if current is not None and label != "working tree":
                current["revision"] = label
                current["wall_vs_revision"] = (_median(current["images_per_second"])
                                               / _median(other["images_per_second"]))
                current["cpu_vs_revision"] = (_median(current["images_per_cpu_second"])
                                              / _median(other["images_per_cpu_second"]))
    return results


def gpu_targets(flops_rows, configs, tflops, utilisation, name):
    """Images/s a GPU of `tflops` peak consumes at `utilisation` in the GAN and the L1-only step of each config."""
    rate = tflops * 1e12 * utilisation
    rows = []
    for (preset, width, batch), flops in zip(configs, flops_rows):
        gan, l1 = rate / flops["kcolor_step_flops"], rate / flops["l1_step_flops"]
        rows.append({
            "name": name, "preset": preset, "width": width, "batch": batch, "image_size": flops["image_size"],
            "tflops": tflops, "utilisation": utilisation, "gan_step_flops": flops["kcolor_step_flops"],
            "l1_step_flops": flops["l1_step_flops"], "gan_images_per_second": gan, "l1_images_per_second": l1,
            "fastest_images_per_second": max(gan, l1),
        })  # fmt: skip
    return rows


# --------------------------------------------------------------------------------------------------------------
# Tables.


def _rate(rate, digits=1):
    if not isinstance(rate, dict) or rate.get("median") is None:
        return "-"
    return f"{rate['median']:.{digits}f} [{rate['min']:.{digits}f}-{rate['max']:.{digits}f}]"


def _number(value, pattern):
    return "-" if value is None else pattern.format(value)


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def format_tables(results):
    """The results as markdown tables (what is printed, and what docs/PERFORMANCE.md shows)."""
    out = []
    if results.get("peak"):
        out.append("### Machine peak (square matrix product)\n")
        out.append(markdown_table(
            ["backend", "library", "dtype", "size", "GFLOP/s median [min-max]"],
            [[r.get("backend"), r.get("library"), r.get("dtype"), r.get("size"), _rate(r.get("gflops_per_second"))]
             for r in results["peak"] if "error" not in r]))
    if results.get("flops"):
        out.append("\n### Arithmetic per image (analytic, 2 FLOPs per multiply-add)\n")
        out.append(markdown_table(
            ["preset", "width", "px", "G fwd GFLOP", "D fwd GFLOP", "kcolor step", "reference step",
             "kcolor before sharing G(z)"],
            [[r["preset"], r["width"], r["image_size"], f"{r['generator_forward_flops'] / 1e9:.3f}",
              f"{r['discriminator_forward_flops'] / 1e9:.3f}", f"{r['kcolor_step_flops'] / 1e9:.3f}",
              f"{r['reference_step_flops'] / 1e9:.3f}", f"{r['kcolor_unshared_step_flops'] / 1e9:.3f}"]
             for r in results["flops"]]))
    if results.get("train"):
        out.append("\n### Train step (images/s, median [min-max] of the repeats)\n")
        rows = []
        for r in results["train"]:
            if "error" in r:
                rows.append([r.get("backend"), "error"] + [""] * 12)
                continue
            rows.append([
                r["backend"], r["implementation"], r["preset"], r["width"], r["batch"],
                "on" if r["xla"] else "off", r["precision"], _rate(r["images_per_second"]),
                _number(_median(r["step_seconds"]), "{:.3f}"),
                _number(r["flops_per_image"] and r["flops_per_image"] / 1e9, "{:.3f}"),
                _number(r["gflops_per_second"], "{:.1f}"), _number(r.get("utilisation"), "{:.0%}"),
                _number(r.get("ratio_to_reference"), "{:.2f}x"), f"{r['compile_s']:.1f}",
            ])
        out.append(markdown_table(
            ["backend", "step", "preset", "width", "batch", "XLA", "precision", "images/s", "s/step",
             "GFLOP/img", "GFLOP/s", "util.", "vs reference", "1st step s"], rows))
        costs = [r for r in results["train"] if r.get("xla_cost_flops_per_image")]
        if costs:
            out.append("\nXLA's cost analysis of the compiled JAX step vs the analytic count (GFLOP per image): "
                       + "; ".join(f"{r['preset']}@{r['width']}: XLA {r['xla_cost_flops_per_image'] / 1e9:.3f}, "
                                   f"analytic {r['flops_per_image'] / 1e9:.3f}" for r in costs))
    if results.get("upsampling"):
        out.append("\n### Generator upsampling: Conv2DTranspose as Keras runs it vs an exact sub-pixel rewrite "
                   "(forward + backward of all 4x4 stride-2 layers, s per batch)\n")
        out.append(markdown_table(
            ["backend", "preset", "width", "batch", "XLA", "layers", "GFLOP", "Keras conv_transpose s",
             "sub-pixel s", "speed-up", "max rel. difference"],
            [[r["backend"], r["preset"], r["width"], r["batch"], "on" if r["xla"] else "off", r["layers"],
              f"{r['useful_gflop']:.1f}", f"{r['native_s']:.3f}", f"{r['subpixel_s']:.3f}", f"{r['speedup']:.2f}x",
              f"{r['max_relative_difference']:.1e}"]
             for r in results["upsampling"] if "error" not in r]))
    if results.get("targets"):
        out.append("\n### What a GPU consumes (FLOPs per image / assumed GFLOP/s)\n")
        out.append(markdown_table(
            ["GPU", "preset", "width", "px", "batch", "GAN step GFLOP/img", "L1 step GFLOP/img", "assumed TFLOP/s",
             "GAN img/s", "L1 img/s", "2x the faster"],
            [[r["name"], r["preset"], r["width"], r["image_size"], r["batch"], f"{r['gan_step_flops'] / 1e9:.3f}",
              f"{r['l1_step_flops'] / 1e9:.3f}", f"{r['tflops']:g} x {r['utilisation']:.0%}",
              f"{r['gan_images_per_second']:.0f}", f"{r['l1_images_per_second']:.0f}",
              f"{2 * r['fastest_images_per_second']:.0f}"] for r in results["targets"]]))
    if results.get("pipeline"):
        out.append("\n### Input pipeline (uint8 batches, decoded and augmented; images/s)\n")
        out.append(markdown_table(
            ["source", "path", "version", "cache", "px", "batch", "setup s", "first epoch img/s (img/CPU-s)",
             "images/s", "images/CPU-s", "GPU img/s", "CPU-s rate / GPU", "fastest step img/s", "pipeline / step"],
            [[r["source"], r.get("path", "load_dataset"), r.get("version", "working tree"), r["cache"],
              r["image_size"], r["batch"], f"{r['setup_s']:.1f}",
              _number(r.get("first_pass_images_per_second"), "{:.0f}")
              + _number(r.get("first_pass_images_per_cpu_second"), " ({:.0f})"), _rate(r["images_per_second"], 0),
              _rate(r.get("images_per_cpu_second"), 0), _number(r.get("target_images_per_second"), "{:.0f}"),
              _number(r.get("cpu_rate_to_target"), "{:.1f}x"),
              _number(r.get("fastest_step_images_per_second"), "{:.1f}"), _number(r.get("pipeline_to_step"), "{:.1f}x")]
             for r in results["pipeline"] if "error" not in r]))
        compared = [r for r in results["pipeline"] if r.get("revision")]
        if compared:
            out.append("\n### Input pipeline A/B (same process, alternating repeats): working tree vs revision\n")
            out.append(markdown_table(
                ["source", "path", "px", "batch", "revision", "images/CPU-s (working tree)", "CPU-s rate vs revision",
                 "wall-clock rate vs revision"],
                [[r["source"], r["path"], r["image_size"], r["batch"], r["revision"],
                  _rate(r["images_per_cpu_second"], 0), f"{r['cpu_vs_revision']:.2f}x", f"{r['wall_vs_revision']:.2f}x"]
                 for r in compared]))
        failed = [r for r in results["pipeline"] if "error" in r]
        if failed:
            out.append("\nFailed pipeline rows: " + "; ".join(
                f"{r['source']}/{r.get('path')}/{r.get('version')}: {r['error']}" for r in failed))
    if results.get("colorize"):
        out.append("\n### colorize_photo\n")
        out.append(markdown_table(
            ["backend", "generator", "photo", "render", "first call s", "latency s median [min-max]",
             "RSS before MiB", "peak RSS MiB"],
            [[r["backend"], f"{r['preset']}@{r['width']}", f"{r['width_px']}x{r['height']} ({r['megapixels']:.1f} MP)",
              r["render_size"], f"{r['first_call_s']:.2f}", _rate(r["seconds"], 2),
              _number(r["baseline_rss_mib"], "{:.0f}"), f"{r['peak_rss_mib']:.0f}"]
             for r in results["colorize"] if "error" not in r]))
    if results.get("fit"):
        out.append("\n### fit end to end (npz pipeline + train step)\n")
        out.append(markdown_table(
            ["backend", "preset", "width", "batch", "XLA", "precision", "images/s", "step traces"],
            [[r["backend"], r["preset"], r["width"], r["batch"], "on" if r["xla"] else "off", r["precision"],
              _rate(r["images_per_second"]), r["step_traces"]]
             for r in results["fit"] if "error" not in r]))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------


def _fastest_kcolor(results, backend, preset, width, batch):
    best = None
    for row in results.get("train", []):
        if ("error" not in row and row["backend"] == backend and row["implementation"] == "kcolor"
                and (row["preset"], row["width"], row["batch"]) == (preset, width, batch)):
            if best is None or _median(row["images_per_second"]) > _median(best["images_per_second"]):
                best = row
    return best


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.report:
        print(format_tables(json.loads(Path(args.report).read_text())))
        return 0
    profile = PROFILES[args.profile]
    args.configs = args.configs or parse_configs(profile["configs"])
    args.precisions = args.precisions or _csv(profile["precisions"])
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.in_process:
        import keras

        backends = [keras.backend.backend()]
    else:
        backends = args.backends or [name for name in ("tensorflow", "jax") if _installed(name)]
    npz = args.npz if args.npz and Path(args.npz).exists() else None
    photos = args.photos if args.photos and Path(args.photos).is_dir() else None
    run = dict(in_process=args.in_process, timeout=args.timeout)

    results = {
        "command": "python -m benchmarks " + " ".join(shlex.quote(part) for part in (argv or sys.argv[1:])),
        "machine": machine_info(),
        "settings": {"repeats": args.repeats, "steps": args.steps, "warmup": args.warmup, "backends": backends,
                     "profile": args.profile, "generator_steps": args.generator_steps},
        "versions": {},
    }
    for backend in backends:
        tasks = [{"kind": "info"}]
        if "peak" in args.sections:
            tasks.append({"kind": "peak", "repeats": args.repeats, "size": args.matmul_size})
        if "train" in args.sections:
            tasks.append({"kind": "train", "configs": train_configs(args, backend), "repeats": args.repeats,
                          "steps": args.steps, "warmup": args.warmup})
        if "upsampling" in args.sections:
            xla_settings = [True] if backend == "jax" else [setting == "on" for setting in args.xla]
            tasks.append({"kind": "upsampling", "configs": args.configs, "xla": xla_settings,
                          "repeats": args.repeats})
        print(f"[{backend}] measuring: {', '.join(task['kind'] for task in tasks)}", file=sys.stderr, flush=True)
        # One process per backend for peak and train: the same warm process, measured back to back.
        info, *rest = run_tasks_in_one(tasks, backend, **run)
        results["versions"][backend] = info
        for task, result in zip(tasks[1:], rest):
            rows = result if isinstance(result, list) else [result]
            results.setdefault(task["kind"], []).extend(rows)

    if "flops" in args.sections:
        seen = []
        for preset, width, _ in args.configs:
            if [preset, width] not in seen:
                seen.append([preset, width])
        task = {"kind": "flops", "configs": seen, "generator_steps": args.generator_steps}
        results["flops"] = run_tasks([task], backends[0], **run)[0]

    if "pipeline" in args.sections:
        targets = args.targets or []
        if targets:
            task = {"kind": "flops", "configs": [[preset, width] for preset, width, _ in targets],
                    "generator_steps": args.generator_steps}
            results["targets"] = gpu_targets(run_tasks([task], backends[0], **run)[0], targets, args.target_tflops,
                                             args.target_utilisation, args.target_name)
        shapes = []
        for preset, _, batch in args.pipeline_configs or targets or args.configs:
            if [preset, batch] not in shapes:
                shapes.append([preset, batch])
        task = {"kind": "pipeline", "shapes": shapes, "sources": args.pipeline_sources, "paths": args.pipeline_paths,
                "npz": npz, "photos": photos, "images": args.pipeline_images, "batches": args.pipeline_batches,
                "drain": args.pipeline_drain, "repeats": args.repeats, "revision": args.pipeline_revision,
                "rounds": args.pipeline_rounds, "tfds_examples": args.tfds_examples}
        print("[pipeline] measuring", file=sys.stderr, flush=True)
        results["pipeline"] = run_tasks([task], backends[0], **run)[0]

    if "colorize" in args.sections:
        results["colorize"] = []
        for backend in backends:
            print(f"[{backend}] colorize", file=sys.stderr, flush=True)
            task = {"kind": "colorize", "preset": args.colorize_preset, "width": args.colorize_width,
                    "megapixels": args.colorize_megapixels, "render_size": args.render_size,
                    "repeats": args.colorize_repeats}
            results["colorize"].extend(run_tasks([task], backend, **run))

    if "fit" in args.sections:
        results["fit"] = []
        preset, width, batch = (args.fit or args.configs)[0]
        for backend in backends:
            best = _fastest_kcolor(results, backend, preset, width, batch)
            config = {"preset": preset, "width": width, "batch": batch,
                      "xla": best["xla"] if best else backend == "jax",
                      "precision": best["precision"] if best else "float32"}
            print(f"[{backend}] fit end to end", file=sys.stderr, flush=True)
            task = {"kind": "fit", "config": config, "npz": npz, "photos": photos, "images": args.pipeline_images,
                    "steps": args.fit_steps, "repeats": args.repeats}
            results["fit"].extend(run_tasks([task], backend, **run))

    for key in ("pipeline", "colorize", "fit"):
        if isinstance(results.get(key), dict):
            results[key] = [results[key]]
    add_derived(results)
    tables = format_tables(results)
    print(tables)
    json_path = Path(args.json) if args.json else DEFAULT_RESULTS / (
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {json_path}", file=sys.stderr)
    return 0


def run_tasks_in_one(tasks, backend, in_process=False, timeout=None):
    """Runs several tasks in one worker process (so they share its warm-up); returns their results."""
    results = run_tasks([{"kind": "batch", "tasks": tasks}], backend, in_process=in_process, timeout=timeout)[0]
    if isinstance(results, dict) and "error" in results:
        return [results for _ in tasks]
    return results

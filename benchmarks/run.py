"""kcolor's benchmark harness, the command line: train-step, input-pipeline and colorize throughput, as tables and JSON.

Usage (from the repository root; every option has a CPU-sized default, and the data default is kcolor's offline
`sample` photos):

    python -m benchmarks                                  # everything, TensorFlow and JAX, CPU-sized
    python -m benchmarks --sections train --backends jax --profile gpu     # the GPU measurements
    python -m benchmarks --sections pipeline --pipeline-revision HEAD      # input pipelines vs a GPU, A/B
    python -m benchmarks --report benchmarks/results/cpu-full.json         # an earlier run's tables
    python -m benchmarks --help

Each Keras backend runs in its own worker process (`benchmarks.launch`, `benchmarks.worker`). An A/B against a
git revision (`--steps-revision`, `--pipeline-revision`) checks the revision out in a temporary git worktree and
measures it there in worker processes of its own, alternating with the working tree's (`benchmarks.ab`). How the
numbers are measured and how to read them: benchmarks/README.md; the results: docs/PERFORMANCE.md.
"""

import argparse
import datetime
import json
import shlex
import sys
from pathlib import Path

from benchmarks import ab
from benchmarks.derived import add_derived, gpu_targets, median_rate  # noqa: F401 (also importable from here)
from benchmarks.launch import run_tasks, run_tasks_in_one
from benchmarks.pipeline import SOURCES
from benchmarks.pipeline_data import DEFAULT_DATASET, check_data_options
from benchmarks.tables import format_tables, markdown_table  # noqa: F401 (also importable from here)
from benchmarks.timing import machine_info
from benchmarks.worktree import REPOSITORY, resolve

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
    """Parses `"preset:width:batch,..."`.

    Args:
        text: comma-separated `preset:width:batch` items.

    Returns:
        A list of `(preset, width, batch)`.

    Raises:
        argparse.ArgumentTypeError: an item is not `preset:width:batch`.

    Example:

    ```python
    parse_configs("nazeri-cifar:0.5:128,pix2pix:1:16")  # [("nazeri-cifar", 0.5, 128), ("pix2pix", 1.0, 16)]
    ```
    """
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
    """The `python -m benchmarks` argument parser (`--help` lists every option)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure kcolor's train step (against the TensorFlow pix2pix tutorial's), input pipeline "
        "and colorize_photo. Prints tables and writes JSON. See benchmarks/README.md.",
    )
    add = parser.add_argument
    add("--sections", type=_csv, default=list(SECTIONS), help=f"any of {','.join(SECTIONS)}")
    add("--backends", type=_csv, default=None,
        help="Keras backends to measure (default: tensorflow,jax, those installed)")
    add("--profile", choices=sorted(PROFILES), default="cpu",
        help="default configurations and precisions: cpu (narrow networks) or gpu (the paper's)")
    add("--configs", type=parse_configs, default=None,
        help="train configurations preset:width:batch,... (default: the profile's)")
    add("--xla", type=_csv, default=["on", "off"], help="XLA settings for TensorFlow: on,off (JAX always uses XLA)")
    add("--precisions", type=_csv, default=None,
        help="dtype policies: float32,mixed_bfloat16,mixed_float16 (default: the profile's)")
    add("--generator-steps", type=int, default=1, help="G updates per D update (default 1)")
    add("--no-reference", action="store_true", help="skip the tutorial-style reference step")
    add("--xla-cost", action="store_true", default=True, help=argparse.SUPPRESS)  # JAX: XLA's FLOP count, always on
    add("--repeats", type=int, default=5, help="timed repeats per measurement (default 5)")
    add("--steps", type=int, default=2, help="train steps per timed repeat (default 2)")
    add("--warmup", type=int, default=1, help="untimed repeats after compiling (default 1)")
    add("--matmul-size", type=int, default=2048, help="side of the peak matrix product")
    ab_options = parser.add_argument_group("A/B against a git revision (checked out in a temporary git worktree)")
    ab_options.add_argument("--steps-revision", metavar="REV",
                            help="also time the train step of the kcolor of git revision REV, in worker processes "
                            "of its own that alternate with the working tree's (--ab-rounds)")
    ab_options.add_argument("--ab-rounds", type=int, default=2,
                            help="worker processes per version for --steps-revision, alternating (default 2)")
    ab_options.add_argument("--pipeline-revision", metavar="REV",
                            help="also build every pipeline with the kcolor of git revision REV; the versions "
                            "alternate process by process, --pipeline-rounds times each")
    ab_options.add_argument("--git-repository", default=str(REPOSITORY),
                            help="the git repository the revisions belong to (default: this checkout)")
    data = parser.add_argument_group("data of the pipeline and fit sections")
    data.add_argument("--dataset", default=DEFAULT_DATASET,
                      help="kcolor dataset spec whose images the pipelines read (default: sample, the photos kcolor "
                      "ships, offline; e.g. cifar10 downloads through TFDS)")
    data.add_argument("--npz", default=None,
                      help="instead, at up to 32 px: an npz file of 32 x 32 images and labels, used as it is "
                      "(e.g. a CIFAR-10 subset); a missing file is an error")
    data.add_argument("--photos", default=None,
                      help="instead, above 32 px: a folder of class folders of photos (e.g. Imagenette's train "
                      "folder); a missing folder is an error")
    pipeline = parser.add_argument_group("pipeline section")
    pipeline.add_argument("--pipeline-sources", type=_csv, default=list(SOURCES),
                          help="sample, npz, folder, folder-uncached, tfds (TFDS code path on mocked, real images)")
    pipeline.add_argument("--pipeline-paths", type=_csv, default=["load_dataset", "train"],
                          help="consumers: load_dataset (the tf.data pipeline), train (kcolor train's stream as fit "
                          "reads it: kcolor.training_data.fit_input)")
    pipeline.add_argument("--pipeline-configs", type=parse_configs, default=None,
                          help="preset:width:batch whose image size and batch the pipeline section measures "
                          "(default: --targets)")
    pipeline.add_argument("--pipeline-batches", type=int, default=20, help="batches per timed pipeline repeat")
    pipeline.add_argument("--pipeline-drain", type=int, default=12,
                          help="batches read untimed after the first pass, before the timed windows")
    pipeline.add_argument("--pipeline-rounds", type=int, default=2,
                          help="times each pipeline is built and measured (with a revision: A, B, A, B)")
    pipeline.add_argument("--tfds-examples", type=int, default=None,
                          help="length of the mocked TFDS training split (default: the real one, e.g. 50,000 for "
                          "cifar10; the benchmark's images repeat); 0: just the images")
    pipeline.add_argument("--pipeline-images", type=int, default=1024,
                          help="images in the npz/folder/tfds test data")
    pipeline.add_argument("--targets", type=parse_configs, default=parse_configs(DEFAULT_TARGETS),
                          help=f"train configurations preset:width:batch whose GPU consumption the pipelines must "
                          f"beat (default {DEFAULT_TARGETS})")
    pipeline.add_argument("--target-tflops", type=float, default=65.0,
                          help="peak of the GPU the targets assume, TFLOP/s (default 65: a T4's float16 tensor cores)")
    pipeline.add_argument("--target-utilisation", type=float, default=0.3,
                          help="share of that peak a train step is assumed to reach (default 0.3)")
    pipeline.add_argument("--target-name", default="Colab T4", help="the target GPU's name in the tables")
    add("--colorize-megapixels", type=float, default=12.0)
    add("--colorize-preset", default="nazeri-places")
    add("--colorize-width", type=float, default=1.0)
    add("--render-size", type=int, default=256)
    add("--colorize-repeats", type=int, default=3)
    add("--fit", type=parse_configs, default=None,
        help="fit end to end on the npz pipeline: preset:width:batch (default: the first config)")
    add("--fit-steps", type=int, default=5, help="steps per fit epoch (default 5)")
    add("--json", default=None, help="where to write the JSON (default benchmarks/results/...)")
    add("--in-process", action="store_true",
        help="measure in this process with its Keras backend only (quick runs and tests; a revision still runs in "
        "processes of its own)")
    add("--timeout", type=int, default=6 * 3600, help="seconds per worker process")
    add("--report", metavar="JSON", help="only print the tables of an earlier run's JSON")
    return parser


def _installed(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def train_configs(args, backend):
    """The train measurements of one backend: kcolor per XLA x precision, the reference, and the A/B revision's.

    Args:
        args: the parsed command line.
        backend: the Keras backend they run with (the reference runs on TensorFlow only).

    Returns:
        Config dicts for `benchmarks.train.prepare_train`; the revision's (`--steps-revision`) have the
        implementation `kcolor@REV` and `steps_revision` set, and follow the working tree's of the same settings.
    """
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


def _fastest_kcolor(results, backend, preset, width, batch):
    best = None
    for row in results.get("train", []):
        if ("error" not in row and row["backend"] == backend and row["implementation"] == "kcolor"
                and (row["preset"], row["width"], row["batch"]) == (preset, width, batch)):
            if best is None or median_rate(row["images_per_second"]) > median_rate(best["images_per_second"]):
                best = row
    return best


def _measure_backend(args, backend, results, run):
    """The peak, train and upsampling sections of one backend, in one warm worker process (and the A/B's)."""
    tasks = [{"kind": "info"}]
    if "peak" in args.sections:
        tasks.append({"kind": "peak", "repeats": args.repeats, "size": args.matmul_size})
    train = {"kind": "train", "configs": train_configs(args, backend), "repeats": args.repeats, "steps": args.steps,
             "warmup": args.warmup}
    if "train" in args.sections and not args.steps_revision:
        tasks.append(train)
    if "upsampling" in args.sections:
        xla_settings = [True] if backend == "jax" else [setting == "on" for setting in args.xla]
        tasks.append({"kind": "upsampling", "configs": args.configs, "xla": xla_settings, "repeats": args.repeats})
    print(f"[{backend}] measuring: {', '.join(task['kind'] for task in tasks)}", file=sys.stderr, flush=True)
    info, *rest = run_tasks_in_one(tasks, backend, **run)
    results["versions"][backend] = info
    for task, result in zip(tasks[1:], rest):
        results.setdefault(task["kind"], []).extend(result if isinstance(result, list) else [result])
    if "train" in args.sections and args.steps_revision:
        print(f"[{backend}] train A/B against {args.steps_revision}", file=sys.stderr, flush=True)
        commit, rows = ab.train_ab(train, args.steps_revision, backend, args.ab_rounds, args.git_repository, **run)
        results["revisions"][args.steps_revision] = commit
        results.setdefault("train", []).extend(rows)


def _measure_pipeline(args, backends, results, run, data):
    """The pipeline section: the GPU targets, and every pipeline (both versions in an A/B run)."""
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
            "images": args.pipeline_images, "batches": args.pipeline_batches, "drain": args.pipeline_drain,
            "repeats": args.repeats, "rounds": args.pipeline_rounds, "tfds_examples": args.tfds_examples, **data}
    print("[pipeline] measuring", file=sys.stderr, flush=True)
    if args.pipeline_revision:
        commit, rows = ab.pipeline_ab(task, args.pipeline_revision, backends[0], args.git_repository, **run)
        results["revisions"][args.pipeline_revision] = commit
        results["pipeline"] = rows
    else:
        results["pipeline"] = run_tasks([task], backends[0], **run)[0]


def main(argv=None):
    """Runs the benchmark: measures the chosen sections, prints the tables and writes the JSON.

    Args:
        argv: the command line's arguments (default: the process's).

    Returns:
        0 on success (the exit status).

    Raises:
        SystemExit: an unknown section, an explicit data path (`--npz`, `--photos`) that does not exist, or an
            A/B revision that names no commit.

    Example:

    ```python
    main(["--sections", "flops,train", "--configs", "nazeri-cifar:0.25:32", "--json", "/tmp/run.json"])
    ```
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.report:
        print(format_tables(json.loads(Path(args.report).read_text())))
        return 0
    profile = PROFILES[args.profile]
    args.configs = args.configs or parse_configs(profile["configs"])
    args.precisions = args.precisions or _csv(profile["precisions"])
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    try:
        npz, photos = check_data_options(args.npz, args.photos)
        for revision in filter(None, (args.steps_revision, args.pipeline_revision)):
            resolve(revision, args.git_repository)  # before any measurement: a typo fails at once
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    if args.in_process:
        import keras

        backends = [keras.backend.backend()]
    else:
        backends = args.backends or [name for name in ("tensorflow", "jax") if _installed(name)]
    data = {"dataset": args.dataset, "npz": npz, "photos": photos}
    run = dict(in_process=args.in_process, timeout=args.timeout)

    results = {
        "command": "python -m benchmarks " + " ".join(shlex.quote(part) for part in (argv or sys.argv[1:])),
        "machine": machine_info(),
        "settings": {"repeats": args.repeats, "steps": args.steps, "warmup": args.warmup, "backends": backends,
                     "profile": args.profile, "generator_steps": args.generator_steps, **data},
        "versions": {},
        "revisions": {},  # an A/B's revision: the commit it named
    }
    for backend in backends:
        _measure_backend(args, backend, results, run)
    if "flops" in args.sections:
        seen = []
        for preset, width, _ in args.configs:
            if [preset, width] not in seen:
                seen.append([preset, width])
        task = {"kind": "flops", "configs": seen, "generator_steps": args.generator_steps}
        results["flops"] = run_tasks([task], backends[0], **run)[0]
    if "pipeline" in args.sections:
        _measure_pipeline(args, backends, results, run, data)
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
            task = {"kind": "fit", "config": config, "images": args.pipeline_images, "steps": args.fit_steps,
                    "repeats": args.repeats, **data}
            results["fit"].extend(run_tasks([task], backend, **run))

    for key in ("pipeline", "colorize", "fit"):
        if isinstance(results.get(key), dict):
            results[key] = [results[key]]
    if not results["revisions"]:
        del results["revisions"]
    add_derived(results)
    print(format_tables(results))
    json_path = Path(args.json) if args.json else DEFAULT_RESULTS / (
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {json_path}", file=sys.stderr)
    return 0

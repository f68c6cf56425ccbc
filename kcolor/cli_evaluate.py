"""`kcolor evaluate`: score a generator (or compare two) against the gray and ground-truth references.

Writes `metrics.json`, `report.md` and figures into the report folder (`kcolor.evaluation.write_report`), prints
the table, and with `--json` also writes the metrics where asked (atomically, `kcolor.run_files.write_json`).
"""

from pathlib import Path

from kcolor.cli_arguments import positive_int
from kcolor.run_files import write_json


def add_evaluate_parser(subparsers):
    """Adds the `evaluate` command to the `kcolor` parser.

    Args:
        subparsers: What `ArgumentParser.add_subparsers` returned.

    Returns:
        The `evaluate` command's `argparse.ArgumentParser`.
    """
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
    parser.add_argument("--image-size", type=positive_int, help="default: the run's training size, or 32")
    parser.add_argument("--limit", type=positive_int, default=1000, help="at most this many images (default 1000)")
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
    histories = {
        name: Path(run) / "history.csv" for name, run in zip(names, runs) if (Path(run) / "history.csv").is_file()
    }
    written = write_report(report, out_dir, images, predictions, labels=labels, class_names=names_of_classes,
                           history_csv=histories or None, title=f"Colorization report: {args.dataset} {args.split}")
    print(report.to_markdown())
    if args.json:
        metrics_dict = report.to_dict()
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        write_json(args.json, metrics_dict, indent=2)
        print(f"Metrics JSON: {args.json}")
    print(f"Report: {written['report']}")
    return 0

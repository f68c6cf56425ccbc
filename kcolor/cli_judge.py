"""`kcolor judge train`: a classifier of color photos that judges colorizations (`kcolor.evaluation.judge`).

`kcolor evaluate --judge FILE` then reports, besides the pixel metrics, how often that classifier recognises
each model's colorizations, against the gray photos and the real ones (semantic interpretability).
"""

from kcolor.cli_arguments import positive_int


def add_judge_parser(subparsers):
    """Adds the `judge` command (and its `train` subcommand) to the `kcolor` parser.

    Args:
        subparsers: What `ArgumentParser.add_subparsers` returned.

    Returns:
        The `judge` command's `argparse.ArgumentParser`.
    """
    parser = subparsers.add_parser(
        "judge",
        help="train a classifier of color photos that judges colorizations (kcolor evaluate --judge)",
        description="Train a small classifier on the training split of a labelled dataset (class folders under "
        "folder:PATH, cifar10, imagenette/320px-v2, ...). kcolor evaluate --judge FILE reports how often it "
        "recognises colorized photos, compared with gray and real ones.",
    )
    commands = parser.add_subparsers(dest="judge_command", required=True, metavar="JUDGE_COMMAND")
    train = commands.add_parser("train", help="train a judge classifier and save it as a .keras file")
    train.add_argument("--dataset", required=True, help="a labelled dataset spec")
    train.add_argument("--out", required=True, help="the .keras file to write (facts go to the .json beside it)")
    train.add_argument("--image-size", type=positive_int, default=128,
                       help="size of the photos it trains on: that of the colorizations it will judge (default 128)")
    train.add_argument("--epochs", type=positive_int, default=12, help="default 12")
    train.add_argument("--batch-size", type=positive_int, default=32, help="default 32")
    train.add_argument("--width", type=positive_int, default=16, help="filters of the first block (default 16)")
    train.add_argument("--view", choices=("color", "chroma"), default="color",
                       help="what the judge sees: the whole photo (default), or only its a*b* colors (chroma: gray "
                       "photos all look alike to it, so only colors that fit the class close its gap)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data-dir", help="TFDS data folder")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2)
    train.set_defaults(run=_run_judge_train)
    return parser


def _run_judge_train(args):
    from kcolor.evaluation.judge import train_judge

    _, info = train_judge(
        args.dataset, args.out, image_size=args.image_size, epochs=args.epochs, batch_size=args.batch_size,
        width=args.width, view=args.view, seed=args.seed, data_dir=args.data_dir, verbose=args.verbose,
    )  # fmt: skip
    print(f"Judge: {args.out}: validation accuracy {info['validation_accuracy']:.1%} on color photos, "
          f"{info['validation_gray_accuracy']:.1%} on their gray versions")
    return 0

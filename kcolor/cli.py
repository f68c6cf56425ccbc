"""The command line: `kcolor train`, `colorize`, `evaluate` and `judge` (also `python -m kcolor ...`).

Each command lives in a module of its own (`kcolor.cli_train`, `cli_colorize`, `cli_evaluate`, `cli_judge`),
which adds its parser and runs it; this module puts the parser together and turns the errors a user can cause
(a bad option, an unreadable photo, a missing model, no internet for a download) into a one-line message and a
non-zero exit status, not a traceback.

The parser is built from modules that import neither Keras nor TensorFlow (`kcolor.training_config`,
`kcolor.models.presets`, `kcolor.distribution`'s `KINDS`), so `kcolor --help`, `kcolor COMMAND --help` and a
mistyped option answer at once; each command imports what it needs in its run function, after
`kcolor.quiet.quiet_tensorflow_startup` has imported TensorFlow with its start-up lines filtered.
"""

import argparse
import sys

from kcolor.cli_arguments import one_line
from kcolor.cli_colorize import add_colorize_parser
from kcolor.cli_evaluate import add_evaluate_parser
from kcolor.cli_judge import add_judge_parser
from kcolor.cli_train import add_train_parser


def build_parser():
    """The `kcolor` argument parser, with every command.

    Returns:
        An `argparse.ArgumentParser`; its `command_parsers` attribute maps each command's name to its parser.
        A parsed command line's `run(args)` runs the command and returns its exit status.
    """
    parser = argparse.ArgumentParser(
        prog="kcolor",
        description="Image colorization with conditional GANs (Nazeri et al. 2018) in Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.command_parsers = {
        "train": add_train_parser(subparsers),
        "colorize": add_colorize_parser(subparsers),
        "evaluate": add_evaluate_parser(subparsers),
        "judge": add_judge_parser(subparsers),
    }
    return parser


def main(argv=None):
    """Entry point of the `kcolor` console command and of `python -m kcolor`.

    Args:
        argv: The arguments after `kcolor` (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 on success, 1 when a command did part of its work (e.g. a photo failed), 2 for a
        user's error (printed as `kcolor COMMAND: error: ...`, one line), 130 when interrupted. `--help` and
        usage errors exit from argparse before anything heavy loads.

    Example:

    ```python
    status = main(["colorize", "example:chelsea", "--out-dir", "colorized"])
    ```
    """
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
        print(f"kcolor {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

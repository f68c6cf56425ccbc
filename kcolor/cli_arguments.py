"""What the `kcolor` commands share: argparse value types and the one-line form of a user's error.

Kept apart from `kcolor.cli` (which builds the parser from every command's module) so that a command's module
can use them without importing `kcolor.cli` back. Only the standard library is imported here.
"""

import argparse
import math


def number_type(convert, minimum, minimum_allowed, description):
    """An argparse `type` that converts with `convert` and accepts finite values above (or at) `minimum`.

    Args:
        convert: `int` or `float`.
        minimum: The smallest value (exclusive unless `minimum_allowed`).
        minimum_allowed: Whether `minimum` itself is accepted.
        description: What the value must be, for the message, e.g. `"a positive integer"`.

    Returns:
        A function of the option's text that returns the value or raises `argparse.ArgumentTypeError`, so
        argparse prints `argument --epochs: must be a positive integer, got -1` and exits with status 2.

    Example:

    ```python
    parser.add_argument("--epochs", type=number_type(int, 0, False, "a positive integer"))
    ```
    """

    def parse(text):
        value = convert(text)
        if not math.isfinite(value) or value < minimum or (value == minimum and not minimum_allowed):
            raise argparse.ArgumentTypeError(f"must be {description}, got {text}")
        return value

    parse.__name__ = description.replace(" ", "_")  # argparse names it in "invalid ... value" messages
    return parse


positive_int = number_type(int, 0, False, "a positive integer")
non_negative_int = number_type(int, 0, True, "zero or positive")
positive_float = number_type(float, 0, False, "a positive number")
non_negative_float = number_type(float, 0, True, "zero or a positive number")


def one_line(error):
    """An exception as the one line a user reads after `kcolor COMMAND: error: `.

    Args:
        error: The exception.

    Returns:
        Its message with newlines folded; an `OSError` without its `[Errno N]` prefix.
    """
    if isinstance(error, OSError) and error.strerror:
        message = error.strerror if error.filename is None else f"{error.filename}: {error.strerror}"
    else:
        message = str(error) or type(error).__name__
    return " ".join(message.split())

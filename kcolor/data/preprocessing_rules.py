"""The rules of preprocessing, defined once for the NumPy pipeline and the `tf.data` pipeline.

kcolor preprocesses images twice over: `kcolor.data.preprocessing` with NumPy and PIL (for JAX
users without TensorFlow, and for folders and npz files) and `kcolor.data.tf_pipeline` with
TensorFlow ops inside `tf.data` graphs. This module holds what the steps *are*, so that a change
made here changes both: which sources are unusable and in which order that is checked, the
colorfulness measure, the resized shape, the resize filter and the crop placement.

The functions are written once against `ArrayMath`, the handful of operations they need:
`NUMPY_MATH` (Python and NumPy numbers) is defined here, `tf_pipeline.TENSORFLOW_MATH` (tensors,
in graph mode too) next to the TensorFlow code, so this module never imports TensorFlow.
tests/test_data_preprocessing_agreement.py holds the two pipelines equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

MIN_SOURCE_SIDE = 8
"""Source images whose shorter side is below this many pixels are skipped as "too small":
scaling them up to `image_size` would only produce blur. Anything larger is resized, up or
down."""

MIN_SOURCE_COLORFULNESS = 8.0
"""Source images less colorful than this (`colorfulness`) are skipped as "colorless":
black-and-white photos stored as RGB, sepia prints, silver gadgets on white. A colorizer learns
nothing from them but to hedge towards gray. On Imagenette's 9,469 training photos it drops 268
besides the 173 stored as grayscale; a look at the photos just above it (8-12) shows mostly
real, if muted, color."""

GRAYSCALE_TOLERANCE = 2
"""Largest channel difference (in 0-255 levels) that still counts as gray. A small tolerance
absorbs JPEG rounding in grayscale photos saved as RGB."""

COLORFULNESS_MEAN_WEIGHT = 0.3
"""Weight of the mean color cast against the color spread in `colorfulness` (Hasler &
Suesstrunk's constant)."""

SKIP_REASONS = ("grayscale", "too small", "colorless")
"""Why a decoded source image can be left out of a dataset; the TensorFlow path encodes a
reason as its position in this tuple plus one (zero meaning "keep"). The order in which the
reasons are *checked* is that of `skip_tests`."""

RESIZE_METHOD = "bilinear"
"""The filter that resizes sources: a `tf.image.resize` method name; the NumPy path maps it to
the PIL filter of the same name (`kcolor.data.preprocessing`)."""

RESIZE_ANTIALIAS = True
"""Whether a reduction filters over the whole footprint of each output pixel (scaled kernel).
PIL always does, so the NumPy path only supports True."""

FLIP_PROBABILITY = 0.5
"""Probability that a training crop is flipped left to right."""


@dataclasses.dataclass(frozen=True)
class ArrayMath:
    """The operations the rules need, for one kind of number (NumPy or TensorFlow).

    Every field is a function with NumPy's meaning: `cast(value, dtype_name)` converts (float to
    integer truncates towards zero), `round` rounds half to even, `amax`/`amin` reduce over an
    axis (None: all), `where(condition, a, b)` selects.
    """

    cast: Callable[[Any, str], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    round: Callable[[Any], Any]
    where: Callable[[Any, Any, Any], Any]
    amax: Callable[[Any, int | None], Any]
    amin: Callable[[Any, int | None], Any]
    mean: Callable[[Any], Any]
    std: Callable[[Any], Any]
    hypot: Callable[[Any, Any], Any]


NUMPY_MATH = ArrayMath(
    cast=lambda value, dtype: np.asarray(value, dtype),
    minimum=np.minimum,
    maximum=np.maximum,
    round=np.round,
    where=np.where,
    amax=lambda value, axis: np.max(value, axis=axis),
    amin=lambda value, axis: np.min(value, axis=axis),
    mean=np.mean,
    std=np.std,
    hypot=np.hypot,
)
"""`ArrayMath` for Python numbers and NumPy arrays."""


def resized_shape(height, width, image_size: int, math: ArrayMath = NUMPY_MATH):
    """The `(height, width)` that scales the shorter side to `image_size`, keeping the aspect.

    Computed in float64 and rounded half to even, so NumPy and TensorFlow agree on every shape,
    ties such as 175 x 112 at 8 px (12.5 wide) included.

    Args:
        height: the source's height (an integer, or an integer tensor with `math`).
        width: the source's width.
        image_size: the target length of the shorter side.
        math: the operations for the kind of number given.

    Returns:
        `(new_height, new_width)`, integers of `math`'s kind (int32), each at least `image_size`.

    Example:
        ```python
        [int(side) for side in resized_shape(300, 451, 64)]  # [64, 96]
        ```
    """
    scale = image_size / math.cast(math.minimum(height, width), "float64")

    def scaled(side):
        return math.maximum(image_size, math.cast(math.round(math.cast(side, "float64") * scale), "int32"))

    return scaled(height), scaled(width)


def crop_placement(height, width, image_size: int, uniforms=None, math: ArrayMath = NUMPY_MATH):
    """Where an `image_size` square is cut from an image: `(top, left, flip)`.

    Evaluation (no `uniforms`): the center square, rounded up and to the left, never flipped.
    Training: each offset is uniform over the positions that keep the square inside the image,
    `min(floor(u * (room + 1)), room)` for a uniform `u` in [0, 1), and the square is flipped
    when its third uniform is below `FLIP_PROBABILITY`.

    Args:
        height: the image's height, at least `image_size` (a number, or an array/tensor of them
            for a batch).
        width: the image's width, likewise.
        image_size: the side of the square.
        uniforms: None, or three numbers (or arrays/tensors shaped like `height`) in [0, 1):
            row, column and flip.
        math: the operations for the kind of number given.

    Returns:
        `(top, left, flip)`; `flip` is False for evaluation.

    Example:
        ```python
        crop_placement(32, 48, 32)  # (0, 8, False)
        ```
    """
    room_down, room_right = height - image_size, width - image_size
    if uniforms is None:
        return room_down // 2, room_right // 2, False
    row, column, flip = uniforms

    def offset(uniform, room):
        position = math.cast(math.cast(uniform, "float64") * math.cast(room + 1, "float64"), "int32")
        return math.minimum(position, room)

    return offset(row, room_down), offset(column, room_right), flip < FLIP_PROBABILITY


def colorfulness(image, math: ArrayMath = NUMPY_MATH):
    """The colorfulness of Hasler & Suesstrunk (2003) of an RGB image, on 0-255 values.

    `hypot(std(rg), std(yb)) + 0.3 * hypot(mean(rg), mean(yb))` with `rg = R - G` and
    `yb = (R + G) / 2 - B`, in float32: 0 for gray, about 15 for "slightly colorful", 33 for
    "moderately".

    Args:
        image: `(height, width, 3)` pixels (any numeric type).
        math: the operations for the kind of array given.

    Returns:
        A float32 scalar of `math`'s kind.

    Example:
        ```python
        float(colorfulness(np.full((8, 8, 3), 128, np.uint8)))  # 0.0
        ```
    """
    rgb = math.cast(image, "float32")
    red_green = rgb[..., 0] - rgb[..., 1]
    yellow_blue = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = math.hypot(math.std(red_green), math.std(yellow_blue))
    return spread + COLORFULNESS_MEAN_WEIGHT * math.hypot(math.mean(red_green), math.mean(yellow_blue))


def has_gray_pixels_only(image, math: ArrayMath = NUMPY_MATH, tolerance: int = GRAYSCALE_TOLERANCE):
    """Whether every pixel's channels differ by at most `tolerance` levels.

    Args:
        image: `(height, width, channels)` pixels, not empty.
        math: the operations for the kind of array given.
        tolerance: the largest channel difference that still counts as gray.

    Returns:
        A boolean scalar of `math`'s kind.

    Example:
        ```python
        bool(has_gray_pixels_only(np.zeros((4, 4, 3), np.uint8)))  # True
        ```
    """
    spread = math.cast(math.amax(image, -1), "int64") - math.cast(math.amin(image, -1), "int64")
    return math.amax(spread, None) <= tolerance


def skip_tests(height, width, image, math: ArrayMath = NUMPY_MATH) -> dict[str, Callable[[], Any]]:
    """The checks that make a source unusable, in the order they are made.

    A source is "too small" when its shorter side is below `MIN_SOURCE_SIDE`, else "grayscale"
    when `has_gray_pixels_only`, else "colorless" when its `colorfulness` is below
    `MIN_SOURCE_COLORFULNESS`.

    Args:
        height: the source's height (for "too small").
        width: the source's width.
        image: the pixels whose colors are checked (the source, or the TensorFlow path's resized
            copy of it).
        math: the operations for the kind of array given.

    Returns:
        `{reason: test}`, each test a function of no arguments that is true when the reason
        applies; the NumPy path stops at the first true one, the TensorFlow path runs them all
        (`skip_code`).

    Example:
        ```python
        image = np.zeros((32, 32, 3), np.uint8)
        [reason for reason, test in skip_tests(32, 32, image).items() if test()]  # ['grayscale', 'colorless']
        ```
    """
    return {
        "too small": lambda: math.minimum(height, width) < MIN_SOURCE_SIDE,
        "grayscale": lambda: has_gray_pixels_only(image, math),
        "colorless": lambda: colorfulness(image, math) < MIN_SOURCE_COLORFULNESS,
    }


def skip_code(tests: dict[str, Callable[[], Any]], math: ArrayMath = NUMPY_MATH):
    """0 when no test of `skip_tests` holds, else 1 + the position in `SKIP_REASONS` of the first.

    Args:
        tests: the output of `skip_tests`; every test is run.
        math: the operations for the kind of array given.

    Returns:
        An integer scalar of `math`'s kind.

    Example:
        ```python
        int(skip_code(skip_tests(32, 32, np.zeros((32, 32, 3), np.uint8))))  # 1: "grayscale"
        ```
    """
    code = 0
    for reason in reversed(list(tests)):
        code = math.where(tests[reason](), SKIP_REASONS.index(reason) + 1, code)
    return code

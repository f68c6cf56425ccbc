"""Robust image reading: any photo file to an RGB `uint8` NumPy array, or a clear error.

`read_image` is the single place where kcolor opens image files, for the datasets and for
the `kcolor colorize` command. It applies the EXIF orientation, converts every PIL mode to RGB
(alpha composited on white, palette, 16-bit, CMYK, grayscale), takes the first frame of
animations, refuses decompression bombs, and turns every failure (missing, empty, truncated,
not an image, permission denied) into one `kcolor.data.errors.ImageReadError` whose
message is a single line. Grayscale photos are returned like any other (three equal channels):
only the *datasets* leave them out, using `is_grayscale`.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kcolor.data.errors import ImageReadError
from kcolor.data.preprocessing_rules import GRAYSCALE_TOLERANCE, has_gray_pixels_only

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
"""File extensions (compared case-insensitively) that folder datasets pick up."""

DEFAULT_MAX_PIXELS = 89_478_485
"""Largest width x height `read_image` decodes by default (PIL's own default limit,
about 89 megapixels); larger headers are treated as decompression bombs."""

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def read_image(path: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as an RGB `uint8` array of shape `(height, width, 3)`.

    The EXIF orientation is applied, transparency is composited on white, palette, grayscale,
    CMYK and 16-bit images are converted to 8-bit RGB (grayscale gives three equal channels) and
    animated files give their first frame.

    Args:
        path: the image file.
        max_pixels: refuse images whose header claims more than this many pixels (a defence
            against decompression bombs); `None` leaves only PIL's own limit.

    Returns:
        A new, writeable `uint8` array of shape `(height, width, 3)`.

    Raises:
        ImageReadError: the file is missing, empty, unreadable, not an image, truncated or
            corrupt, or too large. `str(error)` names the file and the reason on one line.

    Example:
        ```python
        pixels = read_image("photos/beach.jpg")
        pixels.shape, pixels.dtype
        # ((480, 640, 3), dtype('uint8'))
        ```
    """
    path = os.fspath(path)
    try:
        if os.path.isdir(path):
            raise ImageReadError(path, "is a directory, not an image file")
        if os.path.getsize(path) == 0:
            raise ImageReadError(path, "file is empty (0 bytes)")
        with open(path, "rb") as file, Image.open(file) as image:
            _check_pixel_count(path, image.size, max_pixels)
            image.seek(0)  # first frame of animations
            image.load()
            return _to_rgb_array(image)
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(path, f"image is too large, possibly a decompression bomb ({error})") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, "not a recognized image format") from None
    except Exception as error:  # PIL raises OSError, SyntaxError, EOFError, ValueError, ... on bad data
        raise ImageReadError(path, f"corrupt or truncated image data ({type(error).__name__}: {error})") from None


def is_grayscale(image: np.ndarray | Image.Image, tolerance: int = GRAYSCALE_TOLERANCE) -> bool:
    """Tell whether an image carries no color.

    Args:
        image: an array of shape `(height, width)`, `(height, width, 1)` or
            `(height, width, 3 or 4)` (alpha ignored), or a PIL image.
        tolerance: the largest difference between the channels of any pixel that still
            counts as gray.

    Returns:
        True for single-channel images and for RGB images whose three channels are equal
        (within `tolerance`) at every pixel.

    Raises:
        ValueError: the array does not have one of the shapes above.

    Example:
        ```python
        is_grayscale(np.zeros((4, 4, 3), np.uint8)), is_grayscale(read_image("beach.jpg"))
        # (True, False)
        ```
    """
    if isinstance(image, Image.Image):
        if image.mode in ("1", "L", "LA", "La", "F", *_SIXTEEN_BIT_MODES):
            return True
        image = image.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 1):
        return True
    if array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ValueError(f"is_grayscale expects an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {array.shape}")
    rgb = array[..., :3]
    return rgb.size == 0 or bool(has_gray_pixels_only(rgb, tolerance=tolerance))


def _check_pixel_count(path: str, size: tuple[int, int], max_pixels: int | None) -> None:
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageReadError(
            path,
            f"image is {width}x{height} = {width * height:,} pixels, more than the limit of {max_pixels:,} "
            "(possibly a decompression bomb; pass a larger max_pixels to allow it)",
        )


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert a loaded PIL image of any mode to an upright RGB `uint8` array."""
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not make the photo unreadable: keep it as stored
        pass
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "F":
        gray = _to_eight_bit(np.asarray(image))
        return np.repeat(gray[..., np.newaxis], 3, axis=-1)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)


def _to_eight_bit(values: np.ndarray) -> np.ndarray:
    """Scale 16-bit (or 32-bit integer, or float) gray levels to `uint8`."""
    if values.dtype.kind == "f":
        scale = 255.0 if values.size and np.nanmax(values) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(values) * scale + 0.5, 0, 255).astype(np.uint8)
    wide = np.clip(values.astype(np.int64), 0, 65535)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)

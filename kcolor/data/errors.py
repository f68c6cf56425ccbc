"""Exceptions and warnings raised by `kcolor.data`.

Every error a user can cause (a wrong dataset spec, an empty folder, an unreadable photo, no
internet for a TFDS download) is a `ValueError` subclass with a one-line message that
names the culprit and says what to do, so notebooks show a readable message instead of a deep
traceback from PIL or TensorFlow.
"""

from __future__ import annotations

import os


class DatasetError(ValueError):
    """A dataset cannot be loaded as asked (bad spec, split, folder, npz file or argument).

    Example:
        >>> try:
        ...     load_dataset("folder:/no/such/folder")
        ... except DatasetError as error:
        ...     print(error)
    """


class DatasetNotFoundError(DatasetError):
    """The spec names no known dataset; the message lists close names."""


class DatasetDownloadError(DatasetError):
    """A TensorFlow Datasets download or preparation failed (often: no internet access)."""


class ImageReadError(ValueError):
    """An image file cannot be read; `str(error)` is one line naming the file and the reason.

    Args:
        path: the file that could not be read.
        reason: a short human-readable reason, e.g. `"file is empty (0 bytes)"`.

    Example:
        >>> str(ImageReadError("photos/a.jpg", "file not found"))
        "cannot read image 'photos/a.jpg': file not found"
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())  # keep the message on one line
        super().__init__(f"cannot read image '{self.path}': {self.reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


class SkippedImagesWarning(UserWarning):
    """Some source images (grayscale, too small, unreadable) were left out of a dataset."""

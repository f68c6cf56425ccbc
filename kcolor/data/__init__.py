"""Datasets for colorization: batches of `uint8` RGB images from TFDS, folders, npz files
or the offline `sample` photos.

Start with `load_dataset`; `load_arrays` gives a whole split as NumPy arrays for
evaluation, and `read_image` reads any photo file robustly (the `kcolor colorize`
command uses it too). Importing this package imports neither TensorFlow nor Keras; they are
loaded when a dataset is built, and without TensorFlow the local datasets (`sample`,
`folder:PATH`, `npz:PATH`) are served as NumPy batches.

Example:
    >>> from kcolor.data import load_dataset
    >>> train = load_dataset("cifar10", "train", image_size=32, batch_size=128, seed=0)
    >>> validation = load_dataset("cifar10", "validation", image_size=32)  # cifar10's test split
"""

from kcolor.data.dataset import class_names, load_arrays, load_dataset, tensorflow_available
from kcolor.data.errors import (
    DatasetDownloadError,
    DatasetError,
    DatasetNotFoundError,
    ImageReadError,
    SkippedImagesWarning,
)
from kcolor.data.images import IMAGE_EXTENSIONS, is_grayscale, read_image
from kcolor.data.spec import DatasetSpec, parse_spec

__all__ = [
    "IMAGE_EXTENSIONS",
    "DatasetDownloadError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "ImageReadError",
    "SkippedImagesWarning",
    "class_names",
    "is_grayscale",
    "load_arrays",
    "load_dataset",
    "parse_spec",
    "read_image",
    "tensorflow_available",
]

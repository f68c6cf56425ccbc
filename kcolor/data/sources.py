"""An indexable set of decoded, validated source images: what folders and npz files become.

`ImageSource` is the common shape of the local datasets after stage one of the
preprocessing (`kcolor.data.preprocessing`): every image is color, large enough, and is
returned with its shorter side equal to `image_size`. It either holds the images in memory or
re-reads them from disk on demand; the NumPy and `tf.data` pipelines only call
`ImageSource.image` and read `ImageSource.labels`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class ImageSource:
    """Decoded source images of one split, each resized so its shorter side is `image_size`.

    Args:
        description: how the dataset is named in messages, e.g. `"npz:faces.npz (train)"`.
        loader: returns the image at an index as `uint8 (H, W, 3)` with
            `min(H, W) == image_size`; called from several threads.
        labels: `int64` class labels, one per image (`-1` where there are none).
        has_labels: whether the labels are real.

    Example:
        >>> images = [np.zeros((32, 40, 3), np.uint8)]
        >>> source = ImageSource("demo", images.__getitem__, np.array([-1]), has_labels=False)
        >>> len(source), source.image(0).shape
        (1, (32, 40, 3))
    """

    def __init__(self, description: str, loader: Callable[[int], np.ndarray], labels: np.ndarray, *, has_labels: bool):
        self.description = description
        self._loader = loader
        self.labels = np.asarray(labels, dtype=np.int64)
        self.has_labels = has_labels

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, index: int) -> np.ndarray:
        """The image at `index` as a C-contiguous `uint8` array of shape `(H, W, 3)`."""
        return np.ascontiguousarray(self._loader(int(index)), dtype=np.uint8)

"""Fréchet Inception Distance (FID) with Keras' InceptionV3.

FID (Heusel et al. 2017) compares two image sets by the mean and covariance of
their InceptionV3 pool features: `|μ1 - μ2|² + Tr(Σ1 + Σ2 - 2 (Σ1 Σ2)^½)`.
Lower is better; a set compared with itself scores 0. Images are resized to
299 px (any size >= 75 works) and scaled with
`keras.applications.inception_v3.preprocess_input` batch by batch; only
the float32 features (8 KB per image) are kept. FID is only meaningful with
the ImageNet weights and thousands of images (it is biased upwards for small
sets). Works on the TensorFlow and JAX backends; Keras is imported lazily.

The ImageNet weights (about 90 MB) are downloaded by Keras on first use. When
that fails (offline), `FIDUnavailableError` says so in one sentence and
the reports skip FID with a note.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from kcolor.evaluation.batching import ProgressBar, batch_slices
from kcolor.evaluation.validation import check_images

FID_IMAGE_SIZE = 299
MIN_INCEPTION_SIZE = 75
FID_BATCH_SIZE = 64
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


class FIDUnavailableError(RuntimeError):
    """Raised when the InceptionV3 ImageNet weights cannot be obtained (e.g. offline)."""


@functools.lru_cache(maxsize=2)
def _inception_model(weights: str | None, image_size: int):
    import keras

    try:
        return keras.applications.InceptionV3(
            include_top=False, weights=weights, input_shape=(image_size, image_size, 3), pooling="avg"
        )
    except Exception as error:  # Keras raises a bare Exception on a failed download.
        if weights != "imagenet":
            raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise FIDUnavailableError(
            "FID needs the ImageNet weights of InceptionV3, which Keras downloads on first use, "
            f"and the download failed (offline?): {reason}. Put {WEIGHTS_FILE} in ~/.keras/models/, "
            "pass the path of a weights file, or leave 'fid' out of the metrics."
        ) from None


class InceptionFeatures:
    """Extracts 2048-d InceptionV3 pool features from uint8 RGB images.

    Args:
        weights: `"imagenet"` (needed for meaningful FIDs), `None` for
            random weights (only to test the code path), or a weights file path.
        image_size: Side the images are resized to; at least 75.

    The network is cached per `(weights, image_size)`: later instances
    reuse it (and random weights stay the same within a process).

    Raises:
        FIDUnavailableError: If the ImageNet weights cannot be downloaded.
        ValueError: If `image_size` is below 75.

    Example:
        >>> features = InceptionFeatures(weights=None, image_size=75)
        >>> features(np.zeros((2, 32, 32, 3), np.uint8)).shape
        (2, 2048)
    """

    def __init__(self, weights: str | None = "imagenet", image_size: int = FID_IMAGE_SIZE):
        if image_size < MIN_INCEPTION_SIZE:
            raise ValueError(f"InceptionV3 needs images of at least {MIN_INCEPTION_SIZE} px, got {image_size}.")
        self.image_size = image_size
        self.model = _inception_model(weights, image_size)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Returns `(n, 2048)` float32 features of a batch of uint8 RGB images."""
        import keras

        scaled = keras.applications.inception_v3.preprocess_input(images.astype(np.float32))
        resized = keras.ops.image.resize(scaled, (self.image_size, self.image_size), interpolation="bilinear")
        return np.asarray(self.model.predict_on_batch(resized), np.float32)


def frechet_distance(
    mean_a: np.ndarray, covariance_a: np.ndarray, mean_b: np.ndarray, covariance_b: np.ndarray
) -> float:
    """Fréchet distance between two Gaussians, as in FID.

    `|μa - μb|² + Tr(Σa + Σb - 2 sqrtm(Σa Σb))` with `scipy.linalg.sqrtm`;
    when the product is singular a tiny diagonal offset is added (as in the
    reference implementation) and imaginary round-off is dropped. For 2048-d
    Inception features one `sqrtm` takes 10-30 s on a laptop CPU.

    Args:
        mean_a: `(d,)` mean of the first set.
        covariance_a: `(d, d)` covariance of the first set.
        mean_b: `(d,)` mean of the second set.
        covariance_b: `(d, d)` covariance of the second set.

    Returns:
        The distance, >= 0 (round-off below zero is clipped).

    Example:
        >>> frechet_distance(np.zeros(3), np.eye(3), np.ones(3), 4 * np.eye(3))
        6.0
    """
    difference = mean_a - mean_b
    product_root = linalg.sqrtm(covariance_a @ covariance_b)
    if not np.all(np.isfinite(product_root)):
        offset = np.eye(len(covariance_a)) * 1e-6
        product_root = linalg.sqrtm((covariance_a + offset) @ (covariance_b + offset))
    product_root = np.real(product_root)
    distance = difference @ difference + np.trace(covariance_a) + np.trace(covariance_b) - 2.0 * np.trace(product_root)
    return max(float(distance), 0.0)  # Clip round-off below zero.


def _scaled_deviations(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and `(x - mean) / sqrt(n - 1)`, whose Gram matrix is the covariance."""
    if len(features) < 2:
        raise ValueError("FID needs at least two images per set to estimate a covariance.")
    features = np.asarray(features, np.float64)
    mean = features.mean(axis=0)
    return mean, (features - mean) / np.sqrt(len(features) - 1)


def fid_from_features(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two sets of feature vectors.

    With more images than feature dimensions this is `frechet_distance`
    of the sample means and covariances. With fewer (small test sets) the
    covariances have low rank and the same value is computed exactly and much
    faster from the features: with `Σa = AᵀA` and `Σb = BᵀB` (`A`, `B`
    the centred features divided by `sqrt(n - 1)`), the eigenvalues of
    `Σa Σb` are the squared singular values of `A Bᵀ`, so
    `Tr sqrtm(Σa Σb)` is the sum of those singular values.

    Args:
        features_a: `(n_a, d)` features of the first set.
        features_b: `(n_b, d)` features of the second set.

    Returns:
        The Fréchet distance of the two Gaussians fitted to the features.

    Raises:
        ValueError: With fewer than two vectors in a set.
    """
    mean_a, deviations_a = _scaled_deviations(features_a)
    mean_b, deviations_b = _scaled_deviations(features_b)
    if max(len(deviations_a), len(deviations_b)) > deviations_a.shape[1]:
        return frechet_distance(mean_a, deviations_a.T @ deviations_a, mean_b, deviations_b.T @ deviations_b)
    difference = mean_a - mean_b
    cross_root_trace = np.linalg.svd(deviations_a @ deviations_b.T, compute_uv=False).sum()
    distance = difference @ difference + np.sum(deviations_a**2) + np.sum(deviations_b**2) - 2.0 * cross_root_trace
    return max(float(distance), 0.0)  # Clip round-off below zero.


@dataclass
class FIDAccumulator:
    """Collects Inception features of several image sets with one model.

    The reports use it to compute the FID of every row against the truth in a
    single pass over the data. Features are kept as float32 (8 KB per image).

    Args:
        features: The feature extractor shared by all sets.
    """

    features: InceptionFeatures

    def __post_init__(self):
        self.collected: dict[str, list[np.ndarray]] = {}

    def update(self, name: str, images: np.ndarray, batch_size: int = FID_BATCH_SIZE) -> None:
        """Adds a batch of uint8 RGB images to the set called `name`."""
        batches = self.collected.setdefault(name, [])
        for batch in batch_slices(len(images), batch_size):
            batches.append(self.features(images[batch]))

    def distance(self, name_a: str, name_b: str) -> float:
        """FID between two collected sets."""
        return fid_from_features(np.concatenate(self.collected[name_a]), np.concatenate(self.collected[name_b]))


def fid(
    true_rgb,
    pred_rgb,
    weights: str | None = "imagenet",
    image_size: int = FID_IMAGE_SIZE,
    batch_size: int = FID_BATCH_SIZE,
    verbose: bool = False,
) -> float:
    """Fréchet Inception Distance between two sets of uint8 RGB images.

    The sets need not have the same size or be paired.

    Args:
        true_rgb: `(N, H, W, 3)` uint8 reference images.
        pred_rgb: `(M, H', W', 3)` uint8 images to compare.
        weights: `"imagenet"`, `None` (random weights: only to test the
            code path, the value means nothing) or a weights file path.
        image_size: Inception input side, >= 75 (299 for comparable numbers).
        batch_size: Images per forward pass.
        verbose: Whether to show a progress bar.

    Returns:
        The FID, about 0 for a set compared with itself.

    Raises:
        FIDUnavailableError: If the ImageNet weights cannot be downloaded.
        ValueError: For invalid images, fewer than two per set, or
            `image_size` < 75.

    Example:
        >>> fid(images, images, weights=None, image_size=75)  # doctest: +SKIP
        0.0
    """
    sets = {"true": check_images(true_rgb, "true_rgb"), "pred": check_images(pred_rgb, "pred_rgb")}
    accumulator = FIDAccumulator(InceptionFeatures(weights, image_size))
    with ProgressBar(sum(len(images) for images in sets.values()), "FID", enabled=verbose) as progress:
        for name, images in sets.items():
            accumulator.update(name, images, batch_size)
            progress.update(len(images))
    return accumulator.distance("true", "pred")

"""`colorize_photo` latency and memory on a large photo, in the active Keras backend."""

import time

import numpy as np

from benchmarks.peak import backend
from benchmarks.timing import current_rss_mib, peak_rss_mib, summarize


def synthetic_photo(megapixels, seed=0):
    """A smooth photo-like uint8 RGB image of about `megapixels`, 4:3 (gradients plus noise).

    The content does not change `colorize_photo`'s work; only the size does.

    Args:
        megapixels: its size in millions of pixels.
        seed: seeds the noise.

    Returns:
        `uint8 (height, width, 3)`.
    """
    height = max(8, int(round((megapixels * 1e6 * 3 / 4) ** 0.5)))
    width_px = max(8, int(round(height * 4 / 3)))
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width_px]
    photo = np.stack([(x * 255 // max(1, width_px - 1)), (y * 255 // max(1, height - 1)), ((x + y) % 256)], axis=-1)
    return np.clip(photo + rng.integers(-8, 9, photo.shape), 0, 255).astype(np.uint8)


def measure_colorize(preset, width, megapixels, render_size, repeats):
    """Latency and peak memory of `kcolor.colorize.colorize_photo` on a photo of `megapixels`.

    Args:
        preset: the generator's `kcolor.models` preset (untrained: the work does not depend on the weights).
        width: its width multiplier.
        megapixels: the photo's size.
        render_size: `colorize_photo`'s render size.
        repeats: timed calls, after one untimed (first) call.

    Returns:
        A row: the photo's size, `first_call_s`, `seconds` (a `summarize` dict), the resident memory before
        (`baseline_rss_mib`) and the process's peak (`peak_rss_mib`).

    Raises:
        ValueError: `colorize_photo` returned an image of another shape or dtype than the photo's.

    Example:

    ```python
    row = measure_colorize("nazeri-places", 1.0, megapixels=12, render_size=256, repeats=3)
    ```
    """
    from kcolor.colorize import colorize_photo
    from kcolor.models import build_generator

    generator = build_generator(preset, width_multiplier=width)
    photo = synthetic_photo(megapixels)
    height, width_px = photo.shape[:2]
    baseline_rss = current_rss_mib()
    seconds = []
    for _ in range(repeats + 1):  # the first call is the warm-up
        start = time.perf_counter()
        result = colorize_photo(generator, photo, render_size=render_size)
        seconds.append(time.perf_counter() - start)
    if result.shape != photo.shape or result.dtype != np.uint8:
        raise ValueError(f"colorize_photo returned {result.dtype} {result.shape} for a uint8 photo {photo.shape}")
    return {
        "preset": preset, "width": width, "render_size": render_size, "height": height, "width_px": width_px,
        "megapixels": height * width_px / 1e6, "first_call_s": seconds[0], "seconds": summarize(seconds[1:]),
        "baseline_rss_mib": baseline_rss, "peak_rss_mib": peak_rss_mib(),
        "photo_mib": photo.nbytes / 2**20, "backend": backend(),
    }

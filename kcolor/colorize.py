"""Colorize images with a trained generator: batches at model size, and photos at full resolution.

`colorize` runs the generator on a batch of gray or RGB images whose size the generator accepts.
`colorize_photo` handles a photo of any size and aspect ratio: the generator sees the photo's lightness
resized to a "render size" it accepts, its predicted ab is resized back to the photo's full resolution
and combined with the photo's own full-resolution lightness, so no detail of the original is lost (color is
low-frequency; the eye takes detail from lightness).
"""

import numpy as np
from keras import ops

from kcolor import host_lab
from kcolor.color import (
    AB_SCALE,
    L_SCALE,
    gray_to_model_input,
    lab_to_rgb,
    merge_lab,
    denormalize_lightness,
    model_outputs_to_rgb,
)
from kcolor.models.generator import generator_size_multiple


def _as_uint8(rgb):
    return np.round(np.clip(ops.convert_to_numpy(rgb), 0.0, 1.0) * 255.0).astype(np.uint8)


def _check_size(generator, height, width):
    multiple = generator_size_multiple(generator)
    if height % multiple or width % multiple:
        raise ValueError(
            f"The generator needs height and width that are multiples of {multiple}; got {height}x{width}. "
            "Use colorize_photo for images of any size, or resize/crop first."
        )


def colorize(generator, images, batch_size=64):
    """Colorizes a batch of images with a generator.

    Args:
        generator: A kcolor generator (normalised lightness in, normalised ab out).
        images: Gray `(N, H, W)` / `(N, H, W, 1)` or RGB `(N, H, W, 3)` images, uint8 or float in [0, 1]. For
            RGB input only the lightness is used, so the result shows what the model makes of the gray image.
            H and W must be multiples of the generator's size multiple.
        batch_size: Images per generator call.

    Returns:
        uint8 RGB array `(N, H, W, 3)`.

    Example:

    ```python
    colorized = colorize(generator, gray_images)   # gray_images: uint8 (N, 32, 32)
    ```
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"colorize expects a batch (N, H, W[, C]), got shape {images.shape}.")
    _check_size(generator, images.shape[1], images.shape[2])
    outputs = []
    for start in range(0, len(images), batch_size):
        lightness = gray_to_model_input(images[start : start + batch_size])
        ab = generator(lightness, training=False)
        outputs.append(_as_uint8(model_outputs_to_rgb(lightness, ab)))
    if not outputs:
        return np.zeros(images.shape[:3] + (3,), np.uint8)
    return np.concatenate(outputs)


def render_shape(height, width, render_size, multiple):
    """Generator input size for a `height` x `width` photo: longer side `render_size`, aspect kept.

    Both sides are rounded to multiples of `multiple` (at least one multiple), rounding down where rounding to
    the nearest would exceed the photo's own side.
    """
    scale = render_size / max(height, width)

    def fit(side):
        nearest = int(round(side * scale / multiple)) * multiple
        if nearest > side:
            nearest = (side // multiple) * multiple
        return max(multiple, nearest)

    return fit(height), fit(width)


def colorize_photo(generator, image, render_size=256, average_flips=False):
    """Colorizes one photo of any size, keeping its full-resolution detail.

    Args:
        generator: A kcolor generator.
        image: Gray `(H, W)` / `(H, W, 1)` or RGB `(H, W, 3)`, uint8 or float in [0, 1].
        render_size: The longer side, in pixels, at which the generator runs (rounded to a size it accepts),
            at most the photo's own longer side: a photo is never upsampled for the generator. Models do best
            near the size they trained at (`kcolor.model_files.default_render_size`).
        average_flips: Run the generator on the photo and on its three mirror images (left-right, up-down,
            both) and average the four a*b* predictions, each mirrored back (`predict_ab`). The colors then no
            longer depend on where in the frame something is, only on what it is: a network can learn quirks
            tied to the image's edges (zero padding tells it where they are), and averaging cancels them, at four
            times the generator's cost at render size (docs/RESULTS.md: the photo model's painted blobs).

    Returns:
        uint8 RGB `(H, W, 3)`: the photo's own lightness with the predicted color.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"colorize_photo expects (H, W), (H, W, 1) or (H, W, 3), got {image.shape}.")
    if render_size <= 0:
        raise ValueError(f"render_size must be positive, got {render_size}.")
    height, width = image.shape[:2]
    render_size = min(render_size, max(height, width))
    small_shape = render_shape(height, width, render_size, generator_size_multiple(generator))
    if image.dtype == np.uint8:  # photos: full-resolution color math on the host (kcolor.host_lab)
        luminance_y = host_lab.luminance(image)
        lightness = host_lab.lightness_from_luminance(luminance_y) / np.float32(L_SCALE) - np.float32(1.0)
        small_lightness = _resize_channels(lightness[..., None], small_shape)
        ab = predict_ab(generator, small_lightness[None], average_flips)[0]
        return host_lab.colorized_rgb(luminance_y, _resize_channels(ab * np.float32(AB_SCALE), (height, width)))
    full_lightness = gray_to_model_input(image[None])  # (1, H, W, 1)
    small_lightness = ops.image.resize(full_lightness, small_shape, interpolation="bilinear", antialias=True)
    ab = predict_ab(generator, ops.convert_to_numpy(small_lightness), average_flips)
    ab = ops.image.resize(ab, (height, width), interpolation="bilinear")
    lab = merge_lab(denormalize_lightness(full_lightness), ab * AB_SCALE)
    return _as_uint8(lab_to_rgb(lab))[0]


def predict_ab(generator, lightness, average_flips=False):
    """The generator's normalised a*b* for normalised lightness, optionally averaged over the four flips.

    Args:
        generator: A kcolor generator.
        lightness: float32 `(N, H, W, 1)`, as the generator takes it.
        average_flips: See `colorize_photo`.

    Returns:
        float32 NumPy `(N, H, W, 2)`.
    """
    lightness = np.asarray(lightness, np.float32)
    if not average_flips:
        return ops.convert_to_numpy(ops.cast(generator(lightness, training=False), "float32"))
    flips = ((1, 1), (1, -1), (-1, 1), (-1, -1))  # (rows, columns): as is, left-right, up-down, both
    batch = np.concatenate([lightness[:, ::rows, ::columns] for rows, columns in flips])
    ab = ops.convert_to_numpy(ops.cast(generator(batch, training=False), "float32"))
    count = len(lightness)
    unflipped = [ab[index * count : (index + 1) * count, ::rows, ::columns] for index, (rows, columns) in enumerate(flips)]
    return np.mean(unflipped, axis=0, dtype=np.float32)


def _resize_channels(values, shape):
    """Bilinear resize of float32 `(H, W, C)` to `shape` `(h, w)`, antialiased when shrinking.

    Separable: one interpolation matrix per axis (`_resize_matrix`), so the work is two matrix products per
    channel, which NumPy hands to BLAS (a 12-megapixel photo takes tens of milliseconds).
    """
    height, width = shape
    values = np.asarray(values, np.float32)
    if values.shape[:2] == (height, width):
        return np.ascontiguousarray(values)
    if height >= values.shape[0] and width >= values.shape[1]:  # enlarging: two taps per axis
        columns = _two_tap_interpolation(values, width, axis=1)  # the small array first: cheap
        return _two_tap_interpolation(columns, height, axis=0)  # then whole rows, contiguous copies
    rows, columns = _resize_matrix(values.shape[0], height), _resize_matrix(values.shape[1], width)
    return np.stack([rows @ values[..., c] @ columns.T for c in range(values.shape[-1])], axis=-1)


def _two_tap_interpolation(values, target, axis):
    """Bilinear enlargement of `values` along `axis` to `target` samples (half-pixel centers, edges clamped)."""
    source = values.shape[axis]
    centers = np.clip((np.arange(target) + 0.5) * (source / target) - 0.5, 0, source - 1)
    lower = np.floor(centers).astype(np.int64)
    upper = np.minimum(lower + 1, source - 1)
    shape = [1] * values.ndim
    shape[axis] = target
    weight = (centers - lower).astype(np.float32).reshape(shape)
    low = np.take(values, lower, axis=axis)
    low += weight * (np.take(values, upper, axis=axis) - low)
    return low


def _resize_matrix(source, target):
    """`(target, source)` float32 weights of a bilinear (triangle) filter with half-pixel centers.

    When shrinking, the triangle is widened by the scale factor (antialiasing, as PIL and TensorFlow do), so every
    source pixel contributes; when enlarging it is plain bilinear interpolation. A `(target, source)` matrix of a
    12-megapixel photo's side (4000 x 128 values) is small.
    """
    scale = source / target
    support = max(scale, 1.0)
    centers = (np.arange(target) + 0.5) * scale - 0.5  # output pixel centers in source coordinates
    distance = np.abs(np.arange(source)[None, :] - centers[:, None]) / support
    weights = np.maximum(0.0, 1.0 - distance)
    weights /= weights.sum(axis=1, keepdims=True)  # at the edges this clamps to the border pixel
    return weights.astype(np.float32)

"""The images the pipeline and fit sections read: written as an npz file, a folder, and mocked TFDS examples.

By default they are crops of kcolor's offline `sample` dataset (the photos that `kcolor.data` ships), or of any
dataset spec the user passes (`--dataset`, e.g. `cifar10`, which TFDS downloads on first use). A CIFAR-10-style
npz file (`--npz`, used as it is at up to 32 px) and a folder of class folders of photos (`--photos`, above
32 px) are explicit options. Which data the committed results used: benchmarks/README.md#data.
"""

import contextlib
import importlib
import io
import os
from pathlib import Path

import numpy as np

CIFAR_MAX_SIZE = 32  # up to this crop size an --npz file is used as it is, above it the --photos
TFDS_PHOTO_HEIGHT = 320  # imagenette/320px-v2: the shorter side is 320 px
DEFAULT_DATASET = "sample"

TFDS_TRAIN_EXAMPLES = {"cifar10": 50_000, "imagenette/320px-v2": 9_469}
"""The real training split sizes: the mocked TFDS datasets repeat their images to this length, so that the costs
that come once a pass (a new iterator, refilling the shuffle buffer) weigh as they do in real training."""


def photo_files(folder, count):
    """`count` image files of a folder of class folders, taken in turn from each class (sorted).

    Args:
        folder: a folder of class folders of photos (ImageNet style).
        count: how many files to take.

    Returns:
        The files' paths, classes interleaved.
    """
    from kcolor.data.folder import list_image_files

    by_class = {}
    for path in list_image_files(folder):
        by_class.setdefault(path.parent.name, []).append(path)
    queues = [paths for _, paths in sorted(by_class.items())]
    chosen = []
    while len(chosen) < count and any(queues):
        for paths in queues:
            if paths and len(chosen) < count:
                chosen.append(paths.pop(0))
    return chosen


def _encode(image, format_name, quality=90):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format_name, **({"quality": quality} if format_name == "JPEG" else {}))
    return buffer.getvalue()


def _resized(image, height, width):
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def check_data_options(npz=None, photos=None):
    """Checks the explicit data paths before any measurement starts.

    Args:
        npz: an npz file with `images` and `labels`, or None / "" for none.
        photos: a folder of class folders of photos, or None / "" for none.

    Returns:
        `(npz, photos)`, with "" turned into None.

    Raises:
        FileNotFoundError: a path that was given does not exist, with what to do instead.

    Example:

    ```python
    check_data_options("../shared/data/cifar10_train_subset.npz", None)
    ```
    """
    npz, photos = npz or None, photos or None
    if npz and not Path(npz).is_file():
        raise FileNotFoundError(f"--npz {npz}: no such file. Give an npz file with `images` and `labels`, or leave "
                                "--npz out to use the --dataset images (default: kcolor's offline sample photos)")
    if photos and not Path(photos).is_dir():
        raise FileNotFoundError(f"--photos {photos}: no such folder. Give a folder of class folders of photos, or "
                                "leave --photos out to use the --dataset images (default: kcolor's offline sample "
                                "photos)")
    return npz, photos


def prepare_data(directory, image_size, count, cifar_npz=None, photos=None, tfds_examples=None,
                 dataset=DEFAULT_DATASET):  # fmt: skip
    """Writes the benchmark's images as an npz file, a folder and encoded TFDS examples; returns them.

    Up to 32 px the images of `cifar_npz` as they are (32 x 32, so crops only flip); above, `count` photos of
    `photos` (the folder source reads the real files, linked); otherwise crops of `dataset` somewhat larger than
    the crop (the pipelines resize and crop them).

    Args:
        directory: a folder to write into (a subfolder per image size).
        image_size: the crop size the pipelines serve.
        count: how many images.
        cifar_npz: an npz file of 32 x 32 images (`images`, `labels`), used up to 32 px.
        photos: a folder of class folders of photos, used above 32 px.
        tfds_examples: length of the mocked TFDS split (the images repeated); default `TFDS_TRAIN_EXAMPLES`,
            0 for just the images.
        dataset: the `kcolor.data` dataset spec of the images otherwise (default `sample`, offline).

    Returns:
        `(specs, tfds_data, origin)`: `specs` maps each source to `(spec, cache)`; `tfds_data` is
        `(name, encoded files, labels, "png" or "jpeg")` for the mocked TFDS dataset; `origin` describes the data.

    Raises:
        FileNotFoundError: `cifar_npz` or `photos` was given and does not exist.
    """
    from PIL import Image

    from kcolor.data import read_image

    cifar_npz, photos = check_data_options(cifar_npz, photos)
    directory = Path(directory) / f"{image_size}px"
    folder = directory / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    if image_size <= CIFAR_MAX_SIZE and cifar_npz:
        with np.load(cifar_npz) as data:
            images, labels = data["images"][:count], data["labels"][:count].astype(np.int64)
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index:05d}.png")
        tfds_data = ("cifar10", [_encode(image, "PNG") for image in images], labels, "png")
        origin = f"{Path(cifar_npz).name}: {len(images)} CIFAR-10 images, 32 x 32 (folder: PNG files)"
    elif image_size > CIFAR_MAX_SIZE and photos:
        files = photo_files(photos, count)
        classes = sorted({path.parent.name for path in files})
        labels = np.array([classes.index(path.parent.name) for path in files], np.int64)
        decoded = [read_image(path) for path in files]
        for path in files:
            target = folder / path.parent.name / path.name
            target.parent.mkdir(exist_ok=True)
            os.symlink(path.resolve(), target)
        side = min(min(image.shape[:2]) for image in decoded)
        images = np.stack([image if image.shape[:2] == (side, side) else _resized(image, side, side)
                           for image in decoded])
        width = TFDS_PHOTO_HEIGHT * 4 // 3
        encoded = [_encode(_resized(image, TFDS_PHOTO_HEIGHT, width), "JPEG") for image in decoded]
        tfds_data = ("imagenette/320px-v2", encoded, labels, "jpeg")
        origin = (f"{len(files)} photos of {Path(photos)} in {len(classes)} class folders (the folder source reads "
                  f"the files; npz: {side} x {side}; tfds: JPEG {TFDS_PHOTO_HEIGHT} x {width})")
    else:
        from kcolor.data import load_arrays

        file_size = max(image_size + image_size // 4, image_size + 8)  # larger than the crop: resize + crop
        images, _ = load_arrays(dataset, "train", image_size=file_size, limit=count, seed=0)
        labels = np.arange(len(images), dtype=np.int64) % 10
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index:05d}.jpg", quality=90)
        name = "cifar10" if image_size <= CIFAR_MAX_SIZE else "imagenette/320px-v2"
        tfds_data = (name, [_encode(image, "PNG") for image in images], labels, "png")
        origin = f"{len(images)} {dataset} crops of {file_size} px (folder: JPEG files)"
    np.savez(directory / "images.npz", images=images, labels=labels)
    name, encoded, tfds_labels, format_name = tfds_data
    length = TFDS_TRAIN_EXAMPLES.get(name, len(encoded)) if tfds_examples is None else tfds_examples
    if length > len(encoded):
        repeats = -(-length // len(encoded))
        tfds_data = (name, (encoded * repeats)[:length], np.tile(tfds_labels, repeats)[:length], format_name)
    specs = {
        "sample": ("sample", True),
        "npz": (f"npz:{directory / 'images.npz'}", True),
        "folder": (f"folder:{folder}", True),
        "folder-uncached": (f"folder:{folder}", False),
        "tfds": (tfds_data[0], True),
    }
    return specs, tfds_data, {"images": int(len(images)), "origin": origin}


@contextlib.contextmanager
def mocked_tfds(tfds_data):
    """`tfds.testing.mock_data` whose `as_dataset` serves `tfds_data`'s encoded images, as TFDS would.

    The images are decoded in a parallel map unless `decoders` asks for the encoded bytes
    (`tfds.decode.SkipDecoding`). A mocked builder knows no split sizes, and without one kcolor does not cache
    a split; the active `kcolor.data.tfds_source` is told the size, so that the pipeline caches as it does
    once a dataset is downloaded.

    Args:
        tfds_data: `(name, encoded files, labels, "png" or "jpeg")`, from `prepare_data`.

    Yields:
        Nothing; while it is active, `tfds.load` and builders serve these examples.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    _, encoded, labels, format_name = tfds_data
    decode = tf.io.decode_png if format_name == "png" else tf.io.decode_jpeg

    def as_dataset(self, split, decoders=None, read_config=None, **kwargs):
        examples = tf.data.Dataset.from_tensor_slices({"image": list(encoded), "label": labels})
        if decoders and isinstance(decoders.get("image"), tfds.decode.SkipDecoding):
            return examples
        return examples.map(lambda example: {"image": decode(example["image"], channels=3), "label": example["label"]},
                            num_parallel_calls=tf.data.AUTOTUNE)

    tfds_source = importlib.import_module("kcolor.data.tfds_source")
    split_size = tfds_source._split_size
    tfds_source._split_size = lambda builder, split_name: len(encoded)
    try:
        with tfds.testing.mock_data(as_dataset_fn=as_dataset):
            yield
    finally:
        tfds_source._split_size = split_size

"""The fast paths of the input pipelines: whole-batch crops in ``tf.data``, counter-based crops in the local
samplers, one call per batch for local sources in ``tf.data``, and TFDS's decoding shortcuts (JPEGs at a
reduced scale, checks on the resized image).

Every test image is *coded*: pixel (r, c) of image i is (i, r, c), so any crop tells which image, which
window and which orientation it came from.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image

from kcolor.data import SkippedImagesWarning, load_dataset
from kcolor.data.numpy_pipeline import ImageSourceSampler, item_uniforms
from kcolor.data.options import LoadOptions
from kcolor.data.sources import ImageSource

SHAPES = [(16, 16), (16, 29), (23, 16), (16, 40), (31, 16), (16, 17), (20, 16), (16, 16)]


def coded_image(index: int, height: int, width: int) -> np.ndarray:
    """Pixel (r, c) is (index, r, c)."""
    rows, columns = np.mgrid[0:height, 0:width]
    return np.stack([np.full_like(rows, index), rows, columns], axis=-1).astype(np.uint8)


def window_of(square: np.ndarray, images: list[np.ndarray]) -> tuple[int, int, int, bool]:
    """``(index, top, left, flipped)`` of a square cut from one of the coded ``images``; fails if it is not one."""
    size = square.shape[0]
    index, top = int(square[0, 0, 0]), int(square[0, 0, 1])
    columns = square[0, :, 2].astype(int)
    flipped = size > 1 and columns[0] > columns[-1]
    left = int(columns.min())
    expected = images[index][top : top + size, left : left + size]
    assert expected.shape == square.shape, (index, top, left)
    assert np.array_equal(square, expected[:, ::-1] if flipped else expected), (index, top, left, flipped)
    return index, top, left, bool(flipped)


def coded_source(size: int = 16) -> tuple[ImageSource, list[np.ndarray]]:
    images = [coded_image(index, *shape) for index, shape in enumerate(SHAPES)]
    assert all(min(image.shape[:2]) == size for image in images)
    return ImageSource("coded", images.__getitem__, np.arange(len(images)), has_labels=True), images


# ---------------------------------------------------------------------------------------------
# The local samplers (NumPy, also what kcolor train reads)


def test_item_uniforms_are_fixed_by_seed_epoch_and_position():
    numbers = item_uniforms(5, 2, np.arange(1000), 3)
    assert numbers.shape == (1000, 3) and numbers.min() >= 0 and numbers.max() < 1
    assert abs(numbers.mean() - 0.5) < 0.03 and abs(np.corrcoef(numbers.T)[0, 1]) < 0.1
    assert np.array_equal(item_uniforms(5, 2, np.arange(10, 20), 3), numbers[10:20])  # any item on its own
    assert not np.array_equal(item_uniforms(6, 2, np.arange(10), 3), numbers[:10])
    assert not np.array_equal(item_uniforms(5, 3, np.arange(10), 3), numbers[:10])
    assert item_uniforms(2**64 - 1, 2**63 + 5, np.arange(2), 1).shape == (2, 1)  # large keys wrap, no overflow


def test_image_source_sampler_cuts_windows_of_its_images():
    source, images = coded_source()
    sampler = ImageSourceSampler(source, LoadOptions(16, 8, seed=0, shuffle=True, augment=True))
    windows = []
    for epoch in range(12):
        squares, labels = sampler.items(epoch, range(0, 8))
        assert sorted(labels.tolist()) == list(range(8))
        for square, label in zip(squares, labels):
            window = window_of(square, images)
            assert window[0] == label
            windows.append(window)
        halves = [sampler.items(epoch, range(0, 3)), sampler.items(epoch, range(3, 8))]
        assert np.array_equal(np.concatenate([part[0] for part in halves]), squares)  # addressed by position
    flips = [window[3] for window in windows]
    assert 0.3 < np.mean(flips) < 0.7
    lefts = {window[2] for window in windows if window[0] == 3}  # 16 x 40: 25 possible positions
    assert len(lefts) > 5
    center = ImageSourceSampler(source, LoadOptions(16, 8, augment=False))
    for square in center.items(0, range(0, 8))[0]:
        index, top, left, flipped = window_of(square, images)
        height, width = SHAPES[index]
        assert (top, left, flipped) == ((height - 16) // 2, (width - 16) // 2, False)


# ---------------------------------------------------------------------------------------------
# tf.data: whole-batch crops


def padded(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    height = max(image.shape[0] for image in images)
    width = max(image.shape[1] for image in images)
    batch = np.zeros((len(images), height, width, 3), np.uint8)
    for slot, image in enumerate(images):
        batch[slot, : image.shape[0], : image.shape[1]] = image
    return batch, np.array([image.shape[:2] for image in images], np.int32)


@pytest.mark.parametrize("size", [16, 80])
def test_crop_batch_gather_and_slices_cut_the_same_windows(size, monkeypatch):
    tf = pytest.importorskip("tensorflow")
    from kcolor.data import tf_preprocessing

    images = [coded_image(index, max(size, height * size // 16), max(size, width * size // 16))
              for index, (height, width) in enumerate(SHAPES)]  # fmt: skip
    batch, sizes = padded(images)
    results = {}
    for path, limit in (("gather", 10**6), ("slices", 0)):
        monkeypatch.setattr(tf_preprocessing, "GATHER_MAX_SIZE", limit)
        results[path] = [tf_preprocessing.crop_batch(tf.constant(batch), tf.constant(sizes), size, tf.constant([seed, 1]))
                         for seed in range(6)]  # fmt: skip
        results[path].append(tf_preprocessing.crop_batch(tf.constant(batch), tf.constant(sizes), size))
    for gathered, sliced in zip(results["gather"], results["slices"]):
        assert np.array_equal(gathered.numpy(), sliced.numpy())
    windows = [window_of(square, images) for squares in results["gather"][:-1] for square in squares.numpy()]
    assert [window[0] for window in windows] == list(range(len(images))) * 6  # each its own image, no padding
    assert 0.25 < np.mean([window[3] for window in windows]) < 0.75
    for index, top, left, flipped in (window_of(square, images) for square in results["gather"][-1].numpy()):
        height, width = images[index].shape[:2]
        assert (top, left, flipped) == ((height - size) // 2, (width - size) // 2, False)
    single = tf_preprocessing.tf_crop_square(tf.constant(images[3]), size, tf.constant([0, 1]))
    window_of(single.numpy(), images)


@pytest.mark.parametrize("size", [16, 80])
def test_batch_pipeline_on_images_of_different_shapes(size):
    tf = pytest.importorskip("tensorflow")
    from kcolor.data import tf_pipeline

    images = [coded_image(index, max(size, height * size // 16), max(size, width * size // 16))
              for index, (height, width) in enumerate(SHAPES * 2)]  # fmt: skip
    for index, image in enumerate(images):
        image[..., 0] = index  # 16 distinct codes

    def elements():
        dataset = tf.data.Dataset.from_generator(
            lambda: ((image, np.int64(index)) for index, image in enumerate(images)),
            output_signature=(tf.TensorSpec([None, None, 3], tf.uint8), tf.TensorSpec([], tf.int64)),
        )
        return dataset.map(tf_pipeline.with_size).cache()

    def epochs(seed, count=1, **options):
        options = LoadOptions(size, 5, seed=seed, shuffle=True, augment=True, with_labels=True, **options)
        dataset = tf_pipeline.batch_pipeline(elements(), options, shuffle_buffer=len(images))
        return [[(square, label) for squares, labels in dataset.as_numpy_iterator() for square, label in
                 zip(squares, labels)] for _ in range(count)]  # fmt: skip

    first, second = epochs(0, count=2)
    for epoch in (first, second):
        assert sorted(label for _, label in epoch) == list(range(len(images)))
        assert all(window_of(square, images)[0] == label for square, label in epoch)
    assert [square.tobytes() for square, _ in first] == [square.tobytes() for square, _ in epochs(0)[0]]
    assert [square.tobytes() for square, _ in first] != [square.tobytes() for square, _ in second]
    (dropped,) = epochs(1, drop_remainder=True)
    assert len(dropped) == 15  # three batches of 5; the last image is left out
    center = LoadOptions(size, 4, augment=False)
    for squares in tf_pipeline.batch_pipeline(elements(), center, shuffle_buffer=None).as_numpy_iterator():
        for square in squares:
            index, top, left, flipped = window_of(square, images)
            height, width = images[index].shape[:2]
            assert (top, left, flipped) == ((height - size) // 2, (width - size) // 2, False)


def test_local_sources_in_tf_data_take_one_call_per_batch(tmp_path):
    pytest.importorskip("tensorflow")
    images = np.stack([coded_image(index, 16, 24) for index in range(30)])
    np.savez(tmp_path / "coded.npz", images=images, labels=np.arange(30))  # train: the first 27
    spec = f"npz:{tmp_path / 'coded.npz'}"

    def read(dataset):
        return [(square, label) for squares, labels in dataset.as_numpy_iterator() for square, label in
                zip(squares, labels)]  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)  # coded images are colorless by design
        dataset = load_dataset(spec, "train", 16, 8, seed=4, with_labels=True)
        again = load_dataset(spec, "train", 16, 8, seed=4, with_labels=True)
        center = load_dataset(spec, "validation", 16, 2, with_labels=True)
    assert dataset.cardinality().numpy() == 4
    first, second = read(dataset), read(dataset)
    for epoch in (first, second):
        assert sorted(label for _, label in epoch) == list(range(27))
        assert all(window_of(square, list(images))[0] == label for square, label in epoch)
    assert [s.tobytes() for s, _ in first] == [s.tobytes() for s, _ in read(again)]
    assert [s.tobytes() for s, _ in first] != [s.tobytes() for s, _ in second]
    assert [(window_of(s, list(images))[1:], label) for s, label in read(center)] == [
        ((0, 4, False), 27), ((0, 4, False), 28), ((0, 4, False), 29)]


# ---------------------------------------------------------------------------------------------
# TFDS: kcolor decodes (large JPEGs at a reduced scale) and checks the resized image


def encoded(image: np.ndarray, format_name: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format_name, **({"quality": 95} if format_name == "JPEG" else {}))
    return buffer.getvalue()


def smooth_photo(height: int, width: int) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width]
    return np.stack([rows * 255 // height, columns * 255 // width, (rows + columns) % 256], -1).astype(np.uint8)


def test_decode_image_decodes_large_jpegs_at_a_reduced_scale():
    tf = pytest.importorskip("tensorflow")
    from kcolor.data.tf_pipeline import decode_image

    photo = smooth_photo(300, 400)
    jpeg, png = encoded(photo, "JPEG"), encoded(photo, "PNG")
    shapes = {size: tuple(decode_image(tf.constant(jpeg), size).shape) for size in (32, 64, 128, 150, 151)}
    assert shapes == {32: (38, 50, 3), 64: (75, 100, 3), 128: (150, 200, 3), 150: (150, 200, 3), 151: (300, 400, 3)}
    assert np.array_equal(decode_image(tf.constant(png), 64).numpy(), photo)  # other formats: in full
    half = decode_image(tf.constant(jpeg), 128).numpy().astype(int)
    reference = np.asarray(Image.fromarray(photo).resize((200, 150), Image.Resampling.BOX)).astype(int)
    assert np.abs(half - reference).mean() < 3  # a proper downscale, not a subsampling


def test_tfds_pipeline_decodes_resizes_and_checks(tmp_path):
    tf = pytest.importorskip("tensorflow")
    tfds = pytest.importorskip("tensorflow_datasets")
    examples = [
        encoded(smooth_photo(320, 427), "JPEG"),  # decoded at half scale, resized to 128 x 170
        encoded(smooth_photo(200, 150), "PNG"),
        encoded(smooth_photo(6, 6), "PNG"),  # too small, although it is resized to 128 first
        encoded(np.repeat(smooth_photo(300, 300)[..., :1], 3, axis=-1), "JPEG"),  # grayscale
    ]
    requested = []

    def fake_as_dataset(self, split, decoders=None, **kwargs):
        requested.append(decoders)
        return tf.data.Dataset.from_tensor_slices({"image": examples, "label": np.arange(4, dtype=np.int64)})

    with tfds.testing.mock_data(as_dataset_fn=fake_as_dataset):
        skipped = r"imagenette/320px-v2 \(train\): 2 images skipped: 1 grayscale, 1 too small"
        with pytest.warns(SkippedImagesWarning, match=skipped):
            dataset = load_dataset("imagenette/320px-v2", "train", 128, 4, seed=0, with_labels=True)
            ((squares, labels),) = list(dataset.as_numpy_iterator())
    assert isinstance(requested[0]["image"], tfds.decode.SkipDecoding)
    assert squares.shape == (2, 128, 128, 3) and sorted(labels.tolist()) == [0, 1]


# ---------------------------------------------------------------------------------------------
# Every pipeline runs without tf.data's autotuning model (tf_pipeline.pipeline_options: destroying an iterator
# waited for the model's thread, up to tens of seconds with the CPU idle)


def test_every_tf_data_pipeline_runs_without_the_autotuning_model(tmp_path):
    tf = pytest.importorskip("tensorflow")
    tfds = pytest.importorskip("tensorflow_datasets")
    np.savez(tmp_path / "coded.npz", images=np.stack([coded_image(index, 16, 24) for index in range(30)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)  # coded images are colorless by design
        pipelines = {
            "sample": load_dataset("sample", "train", 16, 4, seed=0),
            "npz": load_dataset(f"npz:{tmp_path / 'coded.npz'}", "train", 16, 8, seed=0),
            "npz validation": load_dataset(f"npz:{tmp_path / 'coded.npz'}", "validation", 16, 2),
        }
        with tfds.testing.mock_data(num_examples=8):
            pipelines["tfds"] = load_dataset("cifar10", "train", 32, 4, seed=0)
            pipelines["tfds"].take(1).get_single_element()  # a working pipeline, not just a configured one
    for name, dataset in pipelines.items():
        assert isinstance(dataset, tf.data.Dataset), name
        assert dataset.options().autotune.enabled is False, name
        assert dataset.options().deterministic is True, name

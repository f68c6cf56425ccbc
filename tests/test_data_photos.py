"""Photo datasets: colorless photos are skipped (NumPy and TensorFlow paths agree), class folders are labels."""

import warnings

import numpy as np
import pytest
from PIL import Image

from kcolor.data import SkippedImagesWarning, class_names, load_arrays, load_dataset
from kcolor.data.preprocessing import MIN_SOURCE_COLORFULNESS, skip_reason, source_colorfulness


def tinted(value, tint, size=24, seed=0):
    """A textured photo of lightness around `value`, tinted by `tint` (R, G, B offsets)."""
    texture = np.random.default_rng(seed).integers(-30, 30, (size, size, 1))
    return np.clip(value + texture + np.asarray(tint), 0, 255).astype(np.uint8)


def test_colorfulness_of_gray_sepia_and_color():
    assert source_colorfulness(tinted(128, (0, 0, 0))) == 0.0
    sepia = tinted(128, (6, 2, -5))  # a brown cast over a black-and-white photo
    assert 0 < source_colorfulness(sepia) < MIN_SOURCE_COLORFULNESS
    assert skip_reason(sepia) == "colorless"
    colorful = np.concatenate([tinted(128, (60, -20, -20)), tinted(128, (-20, -20, 60))], axis=1)
    assert source_colorfulness(colorful) > 30 and skip_reason(colorful) is None
    assert skip_reason(tinted(128, (0, 0, 0))) == "grayscale"  # exactly gray stays "grayscale"


def test_tensorflow_skip_codes_match_numpy_reasons():
    tf = pytest.importorskip("tensorflow")
    from kcolor.data.preprocessing import SKIP_REASONS
    from kcolor.data.tf_preprocessing import skip_reason_code

    rng = np.random.default_rng(3)
    cases = [tinted(128, (0, 0, 0)), tinted(128, (6, 2, -5)), tinted(100, (40, 0, -40)), tinted(90, (0, 3, 0))]
    cases += [rng.integers(0, 256, (20, 20, 3)).astype(np.uint8), tinted(128, (60, 0, 0), size=5)]
    for image in cases:
        code = int(skip_reason_code(tf.constant(image)))
        expected = skip_reason(image)
        assert (SKIP_REASONS[code - 1] if code else None) == expected


def write_classes(root, names=("cats", "dogs"), per_class=10, colorless=1):
    """Class folders of color photos, plus `colorless` sepia photos in the first one."""
    for class_index, name in enumerate(names):
        folder = root / name
        folder.mkdir(parents=True)
        for index in range(per_class):
            tint = (50, -10, -30) if class_index == 0 else (-30, 10, 50)
            Image.fromarray(tinted(120, tint, seed=index)).save(folder / f"{index:02d}.png")
    for index in range(colorless):
        Image.fromarray(tinted(120, (5, 2, -4), seed=100 + index)).save(root / names[0] / f"sepia{index}.png")
    return root


def test_class_folders_become_labels_in_every_split_and_colorless_photos_are_counted(tmp_path):
    root = write_classes(tmp_path / "pets", per_class=15)
    assert class_names(f"folder:{root}") == ["cats", "dogs"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, labels = load_arrays(f"folder:{root}", "train", 24)
        validation_images, validation_labels = load_arrays(f"folder:{root}", "validation", 24)
    assert any(issubclass(w.category, SkippedImagesWarning) and "1 colorless" in str(w.message) for w in caught)
    assert len(images) + len(validation_images) == 30
    for batch, batch_labels in ((images, labels), (validation_images, validation_labels)):
        reddish = batch[..., 0].mean(axis=(1, 2)) > batch[..., 2].mean(axis=(1, 2))
        np.testing.assert_array_equal(batch_labels, np.where(reddish, 0, 1))  # cats are red, dogs blue


def test_explicit_split_folders_share_one_class_numbering(tmp_path):
    write_classes(tmp_path / "data" / "train", names=("apple", "banana", "cherry"), colorless=0)
    write_classes(tmp_path / "data" / "validation", names=("banana", "cherry"), per_class=2, colorless=0)
    spec = f"folder:{tmp_path / 'data'}"
    assert class_names(spec) == ["apple", "banana", "cherry"]
    _, labels = load_arrays(spec, "validation", 24)
    assert sorted(set(labels.tolist())) == [1, 2]  # banana and cherry keep the numbers they have in train/


def test_a_folder_without_class_folders_has_no_labels(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    for index in range(12):
        Image.fromarray(tinted(120, (40, 0, -40), seed=index)).save(folder / f"{index}.png")
    assert class_names(f"folder:{folder}") is None
    batches = load_dataset(f"folder:{folder}", "train", 16, 4, seed=0, with_labels=True)
    _, labels = next(iter(batches))
    assert (np.asarray(labels) == -1).all()

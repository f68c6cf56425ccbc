"""Tests for kcolor.data: image reading, local and TFDS datasets, and the no-TensorFlow path.

TFDS datasets are mocked with ``tfds.testing.mock_data`` (no network); folders, npz files and
hostile files are generated in temporary folders; the sample set uses the photos installed with
scikit-image and matplotlib.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kcolor.data import (
    DatasetDownloadError,
    DatasetError,
    DatasetNotFoundError,
    ImageReadError,
    SkippedImagesWarning,
    class_names,
    is_grayscale,
    load_arrays,
    load_dataset,
    parse_spec,
    read_image,
)
from kcolor.data import images as images_module
from kcolor.data.folder import folder_split_files, hash_split, list_image_files
from kcolor.data.npz import npz_split_range
from kcolor.data.preprocessing import crop_square, resize_shorter_side, skip_reason
from kcolor.data.reporting import SkipReport
from kcolor.data.sample import SAMPLE_TRAIN_CROPS, plan_sample_crops, sample_photos, sample_regions
from kcolor.data.spec import normalize_split

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPOSITORY = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# File factories


def color_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A random RGB uint8 image that is clearly not grayscale."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, raw_rows: bytes) -> bytes:
    """A PNG file written by hand (PIL cannot write 16-bit RGB, nor lie about the size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw_rows)) + chunk(b"IEND", b"")


def write_rgb16_png(path: Path, pixels: np.ndarray) -> None:
    """Write a 16-bit-per-channel RGB PNG from a uint16 (H, W, 3) array."""
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    path.write_bytes(png_bytes(pixels.shape[1], pixels.shape[0], 16, 2, rows))


def write_exif_rotated_jpeg(path: Path) -> None:
    """A 40 wide x 20 tall JPEG, left half red, right half blue, with EXIF orientation 6.

    Orientation 6 means "rotate 90 degrees clockwise to display": upright it is 20 wide x 40
    tall with the red half on top.
    """
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, quality=95, exif=exif)


def make_mixed_images(folder: Path) -> dict[str, int]:
    """Fill a folder with color images in many formats plus skipped ones; return the counts."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(color_image(30, 40, 1)).save(folder / "plain.jpg", quality=90)
    rgba = np.dstack([color_image(24, 24, 2), np.full((24, 24), 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    Image.fromarray(color_image(20, 36, 3)).convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "palette.png")
    write_rgb16_png(folder / "deep16.png", color_image(18, 22, 4).astype(np.uint16) * 257)
    Image.fromarray(color_image(26, 26, 5)).save(folder / "bitmap.bmp")
    Image.fromarray(color_image(28, 20, 6)).save(folder / "web.webp", quality=90)
    Image.fromarray(color_image(32, 32, 7)).save(folder / "UPPER.JPG", quality=90)
    (folder / "nested" / "deeper").mkdir(parents=True, exist_ok=True)
    Image.fromarray(color_image(20, 30, 8)).save(folder / "nested" / "deeper" / "inside.png")
    write_exif_rotated_jpeg(folder / "rotated.jpg")
    # skipped: grayscale (mode L, and 16-bit gray), unreadable, too small; ignored: not an image
    Image.fromarray(color_image(30, 30, 9)[..., 0], "L").save(folder / "gray.jpg")
    Image.fromarray(np.arange(600, dtype=np.uint16).reshape(20, 30) * 100).save(folder / "gray16.png")
    (folder / "broken.jpg").write_text("this is not a JPEG")
    Image.fromarray(color_image(5, 40, 10)).save(folder / "sliver.png")
    (folder / "notes.txt").write_text("ignored")
    (folder / ".hidden.jpg").write_text("ignored as hidden")
    return {"usable": 9, "grayscale": 2, "unreadable": 1, "too small": 1}


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """A folder with train/ (mixed formats) and val/ (two color images) subfolders."""
    root = tmp_path_factory.mktemp("mixed")
    counts = make_mixed_images(root / "train")
    (root / "val").mkdir()
    for index in range(2):
        Image.fromarray(color_image(40, 50, 20 + index)).save(root / "val" / f"v{index}.png")
    return root, counts


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory) -> Path:
    """20 color images of 24 x 30 with labels 0..19; images 3 and 19 are grayscale."""
    images = np.stack([color_image(24, 30, seed) for seed in range(20)])
    images[3] = images[3, ..., :1]
    images[19] = 77
    path = tmp_path_factory.mktemp("npz") / "faces.npz"
    np.savez(path, images=images, labels=np.arange(20))
    return path


def as_numpy(batch) -> np.ndarray:
    return batch.numpy() if hasattr(batch, "numpy") else np.asarray(batch)


def all_batches(dataset) -> list:
    return [tuple(as_numpy(part) for part in batch) if isinstance(batch, tuple) else as_numpy(batch) for batch in dataset]


# ---------------------------------------------------------------------------------------------
# read_image and is_grayscale


def test_read_image_converts_modes_to_rgb(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red stays red
    rgba[0, 1] = (0, 0, 255, 0)  # transparent becomes white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    pixels = read_image(tmp_path / "alpha.png")
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 2, 3)
    assert pixels[0, 0].tolist() == [255, 0, 0] and pixels[0, 1].tolist() == [255, 255, 255]

    palette = Image.new("P", (3, 1))
    palette.putpalette([10, 20, 30, 200, 100, 0] + [0] * 762)
    palette.putdata([0, 1, 1])
    palette.save(tmp_path / "palette.png")
    assert read_image(tmp_path / "palette.png")[0].tolist() == [[10, 20, 30], [200, 100, 0], [200, 100, 0]]

    Image.fromarray(np.array([[0, 65535, 32896]], np.uint16)).save(tmp_path / "gray16.png")
    gray16 = read_image(tmp_path / "gray16.png")
    assert gray16.shape == (1, 3, 3) and gray16[..., 0].tolist() == [[0, 255, 128]]
    assert is_grayscale(gray16)

    deep = np.zeros((2, 2, 3), np.uint16)
    deep[..., 0], deep[..., 2] = 65535, 100 * 256
    write_rgb16_png(tmp_path / "deep16.png", deep)
    assert read_image(tmp_path / "deep16.png")[0, 0].tolist() == [255, 0, 100]

    Image.new("CMYK", (4, 3), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    cmyk = read_image(tmp_path / "cmyk.jpg")
    assert cmyk.shape == (3, 4, 3) and cmyk[1, 1, 0] > 200 and cmyk[1, 1, 1] < 60

    Image.fromarray(np.full((5, 6), 90, np.uint8), "L").save(tmp_path / "gray.png")
    gray = read_image(tmp_path / "gray.png")  # grayscale photos are valid inputs for colorizing
    assert gray.shape == (5, 6, 3) and (gray == 90).all()


def test_read_image_takes_first_frame_of_animated_gif(tmp_path):
    frames = [Image.new("RGB", (8, 8), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    pixels = read_image(tmp_path / "animated.gif")
    assert pixels.shape == (8, 8, 3)
    assert pixels[4, 4, 0] > 200 and pixels[4, 4, 2] < 50


def test_read_image_applies_exif_orientation(tmp_path):
    write_exif_rotated_jpeg(tmp_path / "rotated.jpg")
    pixels = read_image(tmp_path / "rotated.jpg").astype(int)
    assert pixels.shape == (40, 20, 3)  # stored 40 wide x 20 tall
    top, bottom = pixels[5, 10], pixels[35, 10]
    assert top[0] > 200 and top[2] < 60, "the red half must be on top once rotated"
    assert bottom[2] > 200 and bottom[0] < 60


def write_truncated_jpeg(path: Path) -> None:
    Image.fromarray(color_image(64, 64)).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


HOSTILE_FILES = {
    "empty.jpg": (lambda path: path.write_bytes(b""), "empty"),
    "truncated.jpg": (write_truncated_jpeg, "truncated"),
    "text.jpg": (lambda path: path.write_text("hello, I am not a picture\n"), "not a recognized image"),
    "bomb.png": (lambda path: path.write_bytes(png_bytes(30000, 30000, 8, 2, b"")), "decompression bomb"),
    "missing.png": (lambda path: None, "not found"),
    "folder.png": (lambda path: path.mkdir(), "directory"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_read_image_rejects_hostile_files(tmp_path, name):
    make, reason = HOSTILE_FILES[name]
    path = tmp_path / name
    make(path)
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    message = str(caught.value)
    assert name in message and reason in message
    assert "\n" not in message
    assert caught.value.path == str(path)


def test_read_image_enforces_pixel_limit(tmp_path):
    Image.fromarray(color_image(20, 20)).save(tmp_path / "large.png")
    with pytest.raises(ImageReadError, match=r"large\.png.*20x20 = 400 pixels, more than the limit of 100"):
        read_image(tmp_path / "large.png", max_pixels=100)
    assert read_image(tmp_path / "large.png", max_pixels=400).shape == (20, 20, 3)


def test_read_image_reports_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "secret.jpg"
    Image.fromarray(color_image(8, 8)).save(path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(images_module, "open", refuse, raising=False)  # shadows the builtin
    with pytest.raises(ImageReadError, match=r"secret\.jpg'?: permission denied"):
        read_image(path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_read_image_unreadable_file_on_disk(tmp_path):
    path = tmp_path / "locked.jpg"
    Image.fromarray(color_image(8, 8)).save(path)
    path.chmod(0)
    with pytest.raises(ImageReadError, match="permission denied"):
        read_image(path)


def test_is_grayscale():
    gray = np.repeat(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)[..., :1], 3, axis=-1)
    assert is_grayscale(gray)
    assert is_grayscale(gray[..., 0]) and is_grayscale(gray[..., :1])
    nearly = gray.copy()
    nearly[0, 0, 1] += 2  # JPEG-like rounding noise
    assert is_grayscale(nearly)
    nearly[0, 0, 1] += 1
    assert not is_grayscale(nearly)
    assert not is_grayscale(color_image(4, 4))
    assert is_grayscale(Image.new("L", (3, 3))) and not is_grayscale(Image.fromarray(color_image(4, 4)))
    with pytest.raises(ValueError, match="shape"):
        is_grayscale(np.zeros((4, 4, 2), np.uint8))


# ---------------------------------------------------------------------------------------------
# Preprocessing building blocks


def test_skip_reason_and_report():
    assert skip_reason(color_image(16, 16)) is None
    assert skip_reason(np.zeros((16, 16, 3), np.uint8)) == "grayscale"
    assert skip_reason(color_image(7, 100)) == "too small"
    report = SkipReport("demo (train)")
    report.skip("grayscale")
    report.skip("grayscale")
    report.skip("unreadable", "a.jpg: file is empty (0 bytes)")
    assert report.counts == {"grayscale": 2, "unreadable": 1} and report.total == 3
    with pytest.warns(SkippedImagesWarning, match=r"demo \(train\): 3 images skipped: 2 grayscale, 1 unreadable \(e\.g\. a\.jpg"):
        report.report()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report.report()  # only once


def test_resize_and_crop():
    image = color_image(30, 45)
    resized = resize_shorter_side(image, 16)
    assert resized.shape == (16, 24, 3) and resized.dtype == np.uint8
    assert resize_shorter_side(image, 60).shape == (60, 90, 3)  # scaling up is allowed
    assert resize_shorter_side(image, 30) is image
    wide = np.arange(16 * 24 * 3, dtype=np.uint8).reshape(16, 24, 3)
    assert np.array_equal(crop_square(wide, 16), wide[:, 4:20])
    crops = {crop_square(wide, 16, np.random.default_rng(seed)).tobytes() for seed in range(40)}
    assert len(crops) > 5  # random positions and flips
    assert any(np.array_equal(crop, wide[:, 4:20][:, ::-1]) for crop in [crop_square(wide, 16, np.random.default_rng(s)) for s in range(40)])


def test_spec_and_split_parsing():
    assert parse_spec("sample").kind == "sample" and parse_spec(" SAMPLE ").kind == "sample"
    assert parse_spec("folder:/tmp/photos") == parse_spec(Path("/tmp/photos"))
    assert parse_spec("npz:x.npz").kind == "npz" and parse_spec(Path("x.npz")).kind == "npz"
    assert parse_spec("cifar10").kind == "tfds"
    assert normalize_split("val") == "validation" and normalize_split("val[:10%]") == "validation[:10%]"
    for bad in ("", "folder:", "npz:  "):
        with pytest.raises(DatasetError):
            parse_spec(bad)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"image_size": 0}, "image_size must be a positive integer"),
        ({"image_size": -3}, "image_size"),
        ({"image_size": 2.5}, "image_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"limit": 0}, "limit"),
        ({"seed": -1}, "seed"),
        ({"split": "holdout"}, "unknown split 'holdout'"),
    ],
)
def test_bad_arguments_raise_clear_errors(arguments, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("sample", **{"split": "train", **arguments})


def test_unknown_local_like_names_get_suggestions(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="did you mean sample"):
        load_dataset("sampel")
    with pytest.raises(DatasetNotFoundError, match=f"did you mean folder:{tmp_path}"):
        load_dataset(str(tmp_path))


# ---------------------------------------------------------------------------------------------
# folder:


def test_folder_dataset_mixed_formats(mixed_folder):
    root, counts = mixed_folder
    with pytest.warns(SkippedImagesWarning) as caught:
        dataset = load_dataset(f"folder:{root}", "train", 16, 4, shuffle=False, augment=False)
    message = str(caught[0].message)
    assert "4 images skipped: 2 grayscale, 1 too small, 1 unreadable" in message and "broken.jpg" in message
    batches = all_batches(dataset)
    assert [batch.shape for batch in batches] == [(4, 16, 16, 3), (4, 16, 16, 3), (1, 16, 16, 3)]
    images = np.concatenate(batches)
    assert images.dtype == np.uint8 and len(images) == counts["usable"]
    assert not any(is_grayscale(image) for image in images)

    validation = all_batches(load_dataset(f"folder:{root}", "val", 16, 8))
    assert [batch.shape for batch in validation] == [(2, 16, 16, 3)]


def test_folder_listing_is_recursive_case_insensitive_and_skips_hidden(mixed_folder):
    root, _ = mixed_folder
    names = [path.relative_to(root / "train").as_posix() for path in list_image_files(root / "train")]
    assert "UPPER.JPG" in names and "nested/deeper/inside.png" in names and "web.webp" in names
    assert "notes.txt" not in names and ".hidden.jpg" not in names
    assert [path.name for path in folder_split_files(root, "validation")] == ["v0.png", "v1.png"]
    assert [path.name for path in folder_split_files(root, "test")] == ["v0.png", "v1.png"]


def test_folder_hash_split_is_disjoint_complete_and_stable(tmp_path):
    for index in range(60):
        Image.fromarray(color_image(12, 12, index)).save(tmp_path / f"photo{index:02d}.png")
    train = folder_split_files(tmp_path, "train")
    validation = folder_split_files(tmp_path, "validation")
    assert set(train).isdisjoint(validation)
    assert len(train) + len(validation) == 60 and 1 <= len(validation) <= 15
    assert all(hash_split(path.name) == "validation" for path in validation)
    assert folder_split_files(tmp_path, "validation") == validation
    Image.fromarray(color_image(12, 12, 99)).save(tmp_path / "added.png")
    assert set(validation) <= set(folder_split_files(tmp_path, "validation"))  # stable when adding files


def test_folder_seed_determinism_and_lazy_loading(tmp_path):
    for index in range(24):
        Image.fromarray(color_image(20, 28, index)).save(tmp_path / f"photo{index:02d}.png")
    spec = f"folder:{tmp_path}"
    first = np.concatenate(all_batches(load_dataset(spec, "train", 16, 8, seed=3)))
    again = np.concatenate(all_batches(load_dataset(spec, "train", 16, 8, seed=3, cache=False)))
    other = np.concatenate(all_batches(load_dataset(spec, "train", 16, 8, seed=4)))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    dataset = load_dataset(spec, "train", 16, 8, seed=3)
    epoch_one, epoch_two = (np.concatenate(all_batches(dataset)) for _ in range(2))
    assert not np.array_equal(epoch_one, epoch_two), "epochs must reshuffle and re-crop"
    assert len(np.concatenate(all_batches(load_dataset(spec, "train", 16, 8, limit=5)))) == 5


def test_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset(f"folder:{tmp_path / 'absent'}")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        load_dataset(f"folder:{tmp_path / 'file.png'}")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no pictures here")
    with pytest.raises(DatasetError, match="contains no image files"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    gray = tmp_path / "gray"
    gray.mkdir()
    for index in range(30):
        Image.fromarray(color_image(12, 12, index)[..., 0], "L").save(gray / f"g{index}.png")
    with pytest.raises(DatasetError, match=r"no usable images, \d+ images skipped: \d+ grayscale"):
        load_dataset(f"folder:{gray}", "train")
    single = tmp_path / "single"
    single.mkdir()
    Image.fromarray(color_image(12, 12)).save(single / "a.png")
    split_with_nothing = "validation" if hash_split("a.png") == "train" else "train"
    with pytest.raises(DatasetError, match=f"no images in its {split_with_nothing} split"):
        load_dataset(f"folder:{single}", split_with_nothing)


# ---------------------------------------------------------------------------------------------
# npz:


def test_npz_dataset_splits_labels_and_skips_grayscale(npz_file):
    assert npz_split_range(20, "train") == range(0, 18) and npz_split_range(20, "validation") == range(18, 20)
    with pytest.warns(SkippedImagesWarning, match="1 image skipped: 1 grayscale"):
        train = load_dataset(f"npz:{npz_file}", "train", 16, 5, with_labels=True, shuffle=False, augment=False)
    batches = all_batches(train)
    labels = np.concatenate([labels for _, labels in batches])
    assert labels.tolist() == [index for index in range(18) if index != 3]
    assert all(images.dtype == np.uint8 and images.shape[1:] == (16, 16, 3) for images, _ in batches)
    with pytest.warns(SkippedImagesWarning):
        images, labels = load_arrays(f"npz:{npz_file}", "validation", 16)
    assert images.shape == (1, 16, 16, 3) and labels.tolist() == [18]


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "no_images.npz", pictures=np.zeros((2, 8, 8, 3), np.uint8))
    np.savez(tmp_path / "floats.npz", images=np.zeros((2, 8, 8, 3), np.float32))
    np.savez(tmp_path / "gray.npz", images=np.zeros((2, 8, 8), np.uint8))
    np.savez(tmp_path / "labels.npz", images=color_image(8, 8)[None].repeat(3, 0), labels=np.arange(2))
    (tmp_path / "junk.npz").write_text("not a zip")
    cases = {
        "no_images.npz": "has no 'images' array \\(it has: pictures\\)",
        "floats.npz": "must be uint8 with shape",
        "gray.npz": "must be uint8 with shape",
        "labels.npz": "'labels' must hold one integer per image",
        "junk.npz": "cannot be read as an .npz file",
        "absent.npz": "no such file",
    }
    for name, message in cases.items():
        with pytest.raises(DatasetError, match=message):
            load_dataset(f"npz:{tmp_path / name}")


# ---------------------------------------------------------------------------------------------
# sample


def test_sample_regions_and_crops_never_overlap():
    photos = sample_photos()
    assert len(photos) == 8 and {"astronaut", "grace_hopper"} <= {photo.name for photo in photos}
    train_regions, validation_regions = sample_regions("train"), sample_regions("validation")
    for photo, train, validation in zip(photos, train_regions, validation_regions):
        height, width = photo.pixels.shape[:2]
        assert not train.intersects(validation)
        assert train.height * train.width + validation.height * validation.width == height * width
    for split, regions in (("train", train_regions), ("validation", validation_regions)):
        other = validation_regions if split == "train" else train_regions
        for crop in plan_sample_crops(split, 300, 32, seed=5, epoch=2, flip=True):
            assert regions[crop.photo_index].contains(crop.box)
            assert not other[crop.photo_index].intersects(crop.box)


def test_sample_dataset_shapes_and_determinism():
    def first_epoch(seed, split="train"):
        return np.concatenate(all_batches(load_dataset("sample", split, 16, 32, seed=seed, limit=64)))

    images = first_epoch(0)
    assert images.shape == (64, 16, 16, 3) and images.dtype == np.uint8
    assert np.array_equal(images, first_epoch(0))
    assert not np.array_equal(images, first_epoch(1))
    dataset = load_dataset("sample", "train", 16, 32, seed=0, limit=64)
    epochs = [np.concatenate(all_batches(dataset)) for _ in range(2)]
    assert np.array_equal(epochs[0], images) and not np.array_equal(epochs[0], epochs[1])

    validation = load_dataset("sample", "validation", 16, 32)
    assert np.array_equal(*(np.concatenate(all_batches(validation)) for _ in range(2)))
    arrays, labels = load_arrays("sample", "validation", 16)
    assert arrays.shape == (384, 16, 16, 3) and labels is None
    assert not {image.tobytes() for image in arrays} & {image.tobytes() for image in images}
    assert len(all_batches(load_dataset("sample", "train", 16, 128, seed=0))) == SAMPLE_TRAIN_CROPS // 128


def test_numpy_batches_protocol(npz_file):
    from kcolor.data.npz import load_npz_source
    from kcolor.data.numpy_pipeline import ImageSourceSampler, NumpyBatches
    from kcolor.data.options import LoadOptions

    with pytest.warns(SkippedImagesWarning):
        source = load_npz_source(npz_file, "train", 16)
    sampler = ImageSourceSampler(source, LoadOptions(16, 5, seed=0, shuffle=True, augment=True))
    batches = NumpyBatches(sampler, LoadOptions(16, 5, with_labels=True))
    assert len(batches) == 4 and len(NumpyBatches(sampler, LoadOptions(16, 5, drop_remainder=True))) == 3
    first = [labels.tolist() for _, labels in batches]
    second = [labels.tolist() for _, labels in batches]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == source.labels.tolist()
    assert first != second and batches.epoch == 2
    with pytest.raises(IndexError):
        batches[4]
    fixed = NumpyBatches(ImageSourceSampler(source, LoadOptions(16, 17)), LoadOptions(16, 17))
    assert np.array_equal(fixed[0], fixed[0]) and fixed[0].shape == (17, 16, 16, 3)


# ---------------------------------------------------------------------------------------------
# TFDS (mocked: no network)


def test_tfds_cifar10_shapes_labels_and_split_mapping():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=10):
        dataset = load_dataset("cifar10", "train", 32, 4, seed=0, with_labels=True)
        batches = all_batches(dataset)
        assert [images.shape for images, _ in batches] == [(4, 32, 32, 3), (4, 32, 32, 3), (2, 32, 32, 3)]
        assert all(images.dtype == np.uint8 and labels.dtype == np.int64 for images, labels in batches)
        labels = np.concatenate([labels for _, labels in batches])
        assert ((labels >= 0) & (labels < 10)).all()
        no_labels = all_batches(load_dataset("cifar10", "validation", 16, 8, drop_remainder=True))
        assert [batch.shape for batch in no_labels] == [(8, 16, 16, 3)]
        images, labels = load_arrays("cifar10", "validation", 32, limit=6)
        assert images.shape == (6, 32, 32, 3) and labels.shape == (6,)


def test_tfds_seed_determinism_with_cache():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):

        def epochs(seed, count=1):
            dataset = load_dataset("cifar10", "train", 24, 4, seed=seed, limit=10)  # limit: small enough to cache
            return [np.concatenate(all_batches(dataset)) for _ in range(count)]

        first, second = epochs(0, count=2)
        assert first.shape == (10, 24, 24, 3)
        assert np.array_equal(first, epochs(0)[0])
        assert not np.array_equal(first, epochs(1)[0])
        assert not np.array_equal(first, second), "each epoch reshuffles and re-crops"


def test_tfds_split_resolution():
    from kcolor.data.tfds_source import resolve_tfds_split

    assert resolve_tfds_split("cifar10", [], "validation") == "test"
    assert resolve_tfds_split("cifar10", [], "val[:10%]") == "test[:10%]"
    assert resolve_tfds_split("places365_small", [], "validation") == "validation"
    assert resolve_tfds_split("tf_flowers", ["train"], "train[:80%]") == "train[:80%]"
    assert resolve_tfds_split("some_new_dataset", [], "validation") == "validation"
    with pytest.raises(DatasetError, match="tf_flowers has no split 'validation'; it has: train"):
        resolve_tfds_split("tf_flowers", ["train"], "validation")


def test_tfds_reads_mapped_split_and_skips_grayscale():
    tf = pytest.importorskip("tensorflow")
    tfds = pytest.importorskip("tensorflow_datasets")
    requested = []
    colors = np.stack([color_image(256, 256, seed) for seed in range(4)] + [np.full((256, 256, 3), 90, np.uint8)] * 2)

    def fake_as_dataset(self, split, *args, **kwargs):
        requested.append(str(split))
        return tf.data.Dataset.from_tensor_slices(
            {"image": colors, "label": np.arange(6, dtype=np.int64), "filename": np.array([b"x"] * 6)}
        )

    with tfds.testing.mock_data(as_dataset_fn=fake_as_dataset):
        with pytest.warns(SkippedImagesWarning, match=r"places365_small \(validation\): 2 images skipped: 2 grayscale"):
            batches = all_batches(load_dataset("places365_small", "val", 64, 3, with_labels=True))
        assert "validation" in requested[-1]
        assert [images.shape for images, _ in batches] == [(3, 64, 64, 3), (1, 64, 64, 3)]
        assert np.concatenate([labels for _, labels in batches]).tolist() == [0, 1, 2, 3]
        load_dataset("cifar10", "validation", 32, 3)
        assert "test" in requested[-1]


def test_tfds_download_failure_and_unknown_name(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def offline(self, *args, **kwargs):
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    with pytest.raises(DatasetDownloadError, match="could not download.*network is unreachable.*'sample'.*folder:PATH"):
        load_dataset("cifar10", data_dir=tmp_path)
    with pytest.raises(DatasetNotFoundError, match="unknown dataset 'cifr10'; did you mean cifar10"):
        load_dataset("cifr10", data_dir=tmp_path)
    with pytest.raises(DatasetError, match="has no 'image' feature"):
        load_dataset("imdb_reviews", data_dir=tmp_path)


def test_class_names(tmp_path):
    assert class_names("cifar10")[:3] == ["airplane", "automobile", "bird"] and len(class_names("cifar10")) == 10
    Image.fromarray(color_image(12, 12)).save(tmp_path / "flat.png")  # no class folders: no class names
    assert class_names("sample") is None and class_names(f"folder:{tmp_path}") is None
    assert class_names("not_a_dataset_at_all") is None
    pytest.importorskip("tensorflow_datasets")
    assert class_names("tf_flowers") == ["dandelion", "daisy", "tulips", "sunflowers", "roses"]


# ---------------------------------------------------------------------------------------------
# Without TensorFlow (JAX backend)

NO_TENSORFLOW_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    attempts = []

    class BlockTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "tensorflow_datasets"):
                attempts.append(name)
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, BlockTensorFlow())
    import kcolor.data as data

    result = {"import_attempts": list(attempts), "tensorflow_available": data.tensorflow_available()}
    sample = data.load_dataset("sample", "train", 16, 8, seed=0, limit=20)
    first = [sample[0], list(sample)[0]]
    result["sample"] = [type(sample).__name__, len(sample), [str(b.dtype) for b in first], [list(b.shape) for b in first],
                        bool((first[0] == first[1]).all())]
    npz = data.load_dataset("npz:" + sys.argv[1], "train", 16, 6, with_labels=True, seed=0)
    images, labels = npz[0]
    result["npz"] = [type(images).__name__, str(images.dtype), list(images.shape), str(labels.dtype)]
    arrays, array_labels = data.load_arrays("npz:" + sys.argv[1], "validation", 16)
    result["arrays"] = [list(arrays.shape), array_labels.tolist()]
    try:
        data.load_dataset("cifar10")
    except data.DatasetError as error:
        result["tfds_error"] = str(error)

    import keras

    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(20)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(npz, epochs=2, verbose=0)
    result["fit"] = [keras.backend.backend(), len(history.history["loss"]), npz.epoch >= 2]
    result["modules"] = sorted(name for name in sys.modules if name.split(".")[0] == "tensorflow")
    print("RESULT" + json.dumps(result))
    """
)


def test_local_datasets_work_without_tensorflow(npz_file):
    environment = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPOSITORY)}
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", NO_TENSORFLOW_SCRIPT, str(npz_file)],
        capture_output=True, text=True, env=environment, timeout=180, cwd=REPOSITORY,
    )  # fmt: skip
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT") :])
    assert result["import_attempts"] == [], "importing kcolor.data must not import tensorflow"
    assert result["tensorflow_available"] is False
    assert result["sample"] == ["NumpyBatches", 3, ["uint8", "uint8"], [[8, 16, 16, 3], [8, 16, 16, 3]], True]
    assert result["npz"] == ["ndarray", "uint8", [6, 16, 16, 3], "int64"]
    assert result["arrays"] == [[1, 16, 16, 3], [18]]
    assert "need tensorflow and tensorflow-datasets" in result["tfds_error"]
    assert result["fit"] == ["jax", 2, True]  # Keras ended at least two epochs
    assert result["modules"] == []

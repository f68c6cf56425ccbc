"""`folder:PATH` datasets: every photo below a folder, split into train and validation.

Files ending in `.jpg`, `.jpeg`, `.png`, `.webp` or `.bmp` (any case) are collected
recursively, skipping hidden files and folders (names starting with `.`). The split is:

* **explicit** when PATH has a `train/` folder and a `validation/` or `val/` folder: each
  split reads its own folder (`"test"` reads `test/` when present, else validation);
* otherwise **by hash**: a file belongs to validation when the SHA-1 of its path relative to
  PATH (with `/` separators) falls in the first `FOLDER_VALIDATION_PERCENT` of 100
  buckets. The assignment is deterministic, independent of the other files, and stable when
  files are added; a very small folder may end up with an empty validation split.

Labels come from class folders: when the files of the dataset lie in at least two different folders, a
file's label is the index of its folder's name in the sorted names of all of them (`imagenette/train/
n01440764/x.JPEG` is class `n01440764`), the same in every split (`folder_class_names`).

Every file is decoded once when the dataset is loaded (in a thread pool) to drop grayscale, too
small and unreadable files; the count is reported in one
`kcolor.data.errors.SkippedImagesWarning`. With `cache=True` the images are kept in
memory after resizing (shorter side = `image_size`); with `cache=False` they are decoded
again for every epoch.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from kcolor.data.errors import DatasetError, ImageReadError
from kcolor.data.images import IMAGE_EXTENSIONS, read_image
from kcolor.data.preprocessing import resize_shorter_side, skip_reason
from kcolor.data.reporting import select_usable
from kcolor.data.sources import ImageSource

FOLDER_VALIDATION_PERCENT = 10
"""Share (in percent) of files that the hash split puts in validation."""

_SPLIT_FOLDER_NAMES = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}
_SCAN_CHUNK = 64


def list_image_files(root: str | os.PathLike) -> list[Path]:
    """All image files below `root`, recursively, sorted by their relative path.

    Args:
        root: the folder to search.

    Returns:
        Paths of files whose extension is in `kcolor.data.images.IMAGE_EXTENSIONS`
        (case-insensitive); hidden files and folders are skipped.

    Example:
        >>> [path.name for path in list_image_files("photos")]
        ['a.jpg', 'b.PNG', 'trips/c.webp']
    """
    root = Path(root)
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        found.extend(
            Path(directory, name) for name in files if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)
        )
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def hash_split(relative_path: str) -> str:
    """The split (`"train"` or `"validation"`) the hash rule gives a relative file path.

    Example:
        >>> hash_split("trips/2019/beach.jpg")
        'train'
    """
    bucket = int(hashlib.sha1(relative_path.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "validation" if bucket < FOLDER_VALIDATION_PERCENT else "train"


def folder_split_files(root: str | os.PathLike, split: str) -> list[Path]:
    """The image files of one split of a folder dataset (see the module docstring for the rule).

    Args:
        root: the dataset folder.
        split: `"train"`, `"validation"` or `"test"` (already normalized).

    Returns:
        The split's files, sorted by relative path.

    Raises:
        DatasetError: the folder does not exist, holds no image files, or the split is empty.
    """
    root = Path(root)
    if not root.is_dir():
        problem = "is a file, not a folder" if root.exists() else "no such folder"
        raise DatasetError(f"folder:{root}: {problem}")
    split_folders = _explicit_split_folders(root)
    if split_folders is not None:
        folder = split_folders.get(split) or split_folders["validation"]
        files = list_image_files(folder)
        rule = f"the files below {folder}"
    else:
        if split == "test":
            split = "validation"
        everything = list_image_files(root)
        if not everything:
            raise DatasetError(f"folder:{root} contains no image files ({', '.join(IMAGE_EXTENSIONS)}; hidden files are ignored)")
        files = [path for path in everything if hash_split(path.relative_to(root).as_posix()) == split]
        rule = f"{FOLDER_VALIDATION_PERCENT} % of the {len(everything)} files, chosen by a hash of their path"
    if not files:
        raise DatasetError(
            f"folder:{root} has no images in its {split} split ({rule}); add images, "
            "or make train/ and validation/ subfolders to choose the split yourself"
        )
    return files


def load_folder_source(
    root: str | os.PathLike, split: str, image_size: int, *, limit: int | None = None, cache: bool = True
) -> ImageSource:
    """Decode and check the images of one split of a folder dataset.

    Args:
        root: the dataset folder.
        split: `"train"`, `"validation"` or `"test"`.
        image_size: images are resized so their shorter side has this length.
        limit: keep only the first `limit` usable images (in relative-path order).
        cache: keep the resized images in memory; otherwise re-read files on each access.

    Returns:
        An `kcolor.data.sources.ImageSource`, labelled by class folder when the dataset
        has them (`folder_class_names`), else with all labels `-1`.

    Raises:
        DatasetError: see `folder_split_files`, or no usable image is left.

    Warns:
        SkippedImagesWarning: once, with counts, when files were skipped.
    """
    files = folder_split_files(root, split)
    description = f"folder:{root} ({split})"
    kept = select_usable(_scan_files(files, image_size, keep_pixels=cache), description, limit=limit)
    paths = [path for path, _ in kept]
    if cache:
        images = [image for _, image in kept]
        loader = images.__getitem__
    else:
        loader = lambda index: resize_shorter_side(read_image(paths[index]), image_size)  # noqa: E731
    names = folder_class_names(root)
    if names is None:
        return ImageSource(description, loader, np.full(len(kept), -1), has_labels=False)
    index_of = {name: index for index, name in enumerate(names)}
    return ImageSource(description, loader, np.array([index_of[path.parent.name] for path in paths]), has_labels=True)


def folder_class_names(root: str | os.PathLike) -> list[str] | None:
    """The class names of a folder dataset: the sorted names of the folders that hold its images.

    Args:
        root: the dataset folder.

    Returns:
        The names, or None when all images lie in one folder (no labels). With `train/` and
        `validation/` folders the classes of both count, so a label means the same in each.

    Example:
        >>> folder_class_names("imagenette")   # imagenette/train/n01440764/*.JPEG, ...
        ['n01440764', 'n02102040', ...]
    """
    root = Path(root)
    split_folders = _explicit_split_folders(root) if root.is_dir() else None
    folders = split_folders.values() if split_folders is not None else [root]
    names = sorted({path.parent.name for folder in folders for path in list_image_files(folder)})
    return names if len(names) >= 2 else None


def _explicit_split_folders(root: Path) -> dict[str, Path] | None:
    """`{"train": ..., "validation": ..., ["test": ...]}` when `root` has split folders."""
    folders = {entry.name.lower(): Path(entry.path) for entry in os.scandir(root) if entry.is_dir()}
    found = {}
    for split, names in _SPLIT_FOLDER_NAMES.items():
        matches = [folders[name] for name in names if name in folders]
        if matches:
            found[split] = matches[0]
    return found if "train" in found and "validation" in found else None


def _scan_files(files: list[Path], image_size: int, *, keep_pixels: bool):
    """Decode files in a thread pool, chunk by chunk: `((path, image), reason, detail)` each."""
    scan = functools.partial(_scan_file, image_size=image_size, keep_pixels=keep_pixels)
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for start in range(0, len(files), _SCAN_CHUNK):
            chunk = files[start : start + _SCAN_CHUNK]
            for path, (image, reason, detail) in zip(chunk, pool.map(scan, chunk)):
                yield (path, image), reason, detail


def _scan_file(path: Path, *, image_size: int, keep_pixels: bool) -> tuple[np.ndarray | None, str | None, str | None]:
    """Decode one file: `(resized image or None, skip reason or None, detail or None)`."""
    try:
        image = read_image(path)
    except ImageReadError as error:
        return None, "unreadable", f"{path.name}: {error.reason}"
    reason = skip_reason(image)
    if reason is not None:
        return None, reason, None
    return (resize_shorter_side(image, image_size) if keep_pixels else None), None, None

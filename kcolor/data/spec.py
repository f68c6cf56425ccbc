"""Parsing dataset specs and split names into what the loaders need.

A spec is one string: a TensorFlow Datasets name (`"cifar10"`, `"places365_small"`,
`"imagenette/320px-v2"`, `"tf_flowers"`, optionally with `/config` or `:version`),
`"sample"` (offline photos shipped with scikit-image and matplotlib), `"folder:PATH"` (your
photos) or `"npz:PATH"` (an array file). `imagenette/320px-v2` is Imagenette (ten ImageNet
classes, 9,469 training and 3,925 validation photos with the shorter side 320 px, about 330 MB),
labelled with WordNet ids (`class_names`): the photo preset `photo-128` trains on it. A `pathlib.Path` is accepted too: a directory means `folder:`, a
`.npz` file means `npz:`. Splits are `"train"` and `"validation"` (aliases `"val"`,
`"valid"`); `"test"` is passed to TFDS and means validation for local sources that have no
test part. This module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import dataclasses
import difflib
import os

from kcolor.data.errors import DatasetError, DatasetNotFoundError

LOCAL_SPECS = ("sample", "folder:", "npz:")
"""The spec forms that need no TensorFlow Datasets."""

_SPLIT_ALIASES = {"train": "train", "validation": "validation", "val": "validation", "valid": "validation", "test": "test"}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A parsed dataset spec.

    Attributes:
        kind: `"tfds"`, `"sample"`, `"folder"` or `"npz"`.
        value: the TFDS name, or the path for `folder` and `npz` (empty for `sample`).
    """

    kind: str
    value: str = ""

    def __str__(self) -> str:
        if self.kind == "tfds":
            return self.value
        return self.kind if self.kind == "sample" else f"{self.kind}:{self.value}"


def parse_spec(spec: str | os.PathLike | DatasetSpec) -> DatasetSpec:
    """Turn a spec string (or path) into a `DatasetSpec`.

    Args:
        spec: `"cifar10"`, `"sample"`, `"folder:PATH"`, `"npz:PATH"`, a path, or an
            already parsed `DatasetSpec`.

    Returns:
        The parsed spec; `~` in paths is expanded. Whether a TFDS name exists is checked
        later, when the dataset is loaded.

    Raises:
        DatasetError: the spec is empty, not a string, or `folder:`/`npz:` without a path.

    Example:
        >>> parse_spec("folder:~/photos")
        DatasetSpec(kind='folder', value='/home/me/photos')
    """
    if isinstance(spec, DatasetSpec):
        return spec
    if isinstance(spec, os.PathLike):
        path = os.fspath(spec)
        return DatasetSpec("npz" if path.lower().endswith(".npz") else "folder", os.path.expanduser(path))
    if not isinstance(spec, str):
        raise DatasetError(f"a dataset spec is a string such as 'cifar10', 'sample' or 'folder:PATH'; got {type(spec).__name__}")
    text = spec.strip()
    lowered = text.lower()
    if not text:
        raise DatasetError(f"empty dataset spec; use a TFDS name such as 'cifar10', or one of {', '.join(LOCAL_SPECS)}")
    if lowered == "sample":
        return DatasetSpec("sample")
    for kind in ("folder", "npz"):
        if lowered.startswith(kind + ":"):
            path = text[len(kind) + 1 :].strip()
            if not path:
                raise DatasetError(f"'{text}' names no path; write it as '{kind}:PATH'")
            return DatasetSpec(kind, os.path.expanduser(path))
    return DatasetSpec("tfds", text)


def tfds_base_name(name: str) -> str:
    """The builder name of a TFDS spec, without `/config` or `:version` (`"imagenette"`)."""
    return name.split("/")[0].split(":")[0].strip().lower()


def unknown_dataset_error(
    name: str, known_names: list[str] | tuple[str, ...] = (), *, tfds_missing: bool = False
) -> DatasetNotFoundError:
    """Build the error for a spec that names no dataset, suggesting close names.

    Args:
        name: the spec as written.
        known_names: TFDS builder names to suggest from; the local spec forms are always
            candidates.
        tfds_missing: say that TFDS names cannot be checked because TensorFlow is missing.

    Returns:
        A `kcolor.data.errors.DatasetNotFoundError` to raise.

    Example:
        >>> print(unknown_dataset_error("cifr10", ["cifar10", "cifar100", "mnist"]))
        unknown dataset 'cifr10'; did you mean cifar10, cifar100? ...
    """
    candidates = list(known_names) + ["sample", "folder:", "npz:"]
    close = difflib.get_close_matches(tfds_base_name(name), candidates, n=4, cutoff=0.6)
    if os.path.isdir(os.path.expanduser(name)):
        close.insert(0, f"folder:{name}")
    elif name.lower().endswith(".npz"):
        close.insert(0, f"npz:{name}")
    if tfds_missing:
        lead = f"cannot load '{name}': TensorFlow Datasets names need tensorflow and tensorflow-datasets, which are not installed"
    else:
        lead = f"unknown dataset '{name}'"
    hint = f"; did you mean {', '.join(close)}?" if close else "."
    return DatasetNotFoundError(
        f"{lead}{hint} A spec is a TensorFlow Datasets name (e.g. cifar10, places365_small, tf_flowers), "
        "'sample' (offline photos), 'folder:PATH' or 'npz:PATH'."
    )


def normalize_split(split: str) -> str:
    """Map split aliases to TFDS-style names: `"val"`/`"valid"` become `"validation"`.

    TFDS slicing such as `"val[:10%]"` keeps its slice (`"validation[:10%]"`); other names
    pass through unchanged, for TFDS datasets with unusual splits.

    Raises:
        DatasetError: `split` is not a non-empty string.
    """
    if not isinstance(split, str) or not split.strip():
        raise DatasetError(f"split must be a non-empty string such as 'train' or 'validation'; got {split!r}")
    text = split.strip()
    base, bracket, rest = text.partition("[")
    alias = _SPLIT_ALIASES.get(base.strip().lower())
    return (alias + bracket + rest) if alias else text


def is_training_split(split: str) -> bool:
    """True for `"train"` (and TFDS slices of it such as `"train[:80%]"`)."""
    return normalize_split(split).partition("[")[0] == "train"


def local_split(split: str, spec: DatasetSpec | str) -> str:
    """Validate a split name for `sample`, `folder:` and `npz:` sources.

    Returns:
        `"train"`, `"validation"` or `"test"` (each source decides what `"test"` means).

    Raises:
        DatasetError: any other name, including TFDS slicing syntax.
    """
    name = normalize_split(split)
    if name not in ("train", "validation", "test"):
        raise DatasetError(f"unknown split '{split}' for {spec}; local datasets have the splits 'train' and 'validation'")
    return name

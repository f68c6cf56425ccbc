"""Opening a `.keras` file written by a newer Keras 3 than the one installed.

Keras 3.14 and 3.15 added options that every saved model records, even when they are off: batch
renormalization in `BatchNormalization` (`renorm`, `renorm_clipping`, `renorm_momentum`; 3.14) and the fan axes
of the variance-scaling initializers such as `GlorotUniform` (`input_axes`, `output_axes`; 3.15). An older Keras
refuses arguments it does not know, so Keras 3.13 (Colab's runtime of 2026-08 has 3.13.2) cannot open a
generator saved by Keras 3.15 ("Unrecognized keyword arguments passed to BatchNormalization: {'renorm': False,
...}"). An option that is off changes nothing, so `compatible_model_file` writes a copy of the file without the
options the installed Keras lacks, where they are off; an option that is on is kept, and loading fails as it
would have.
"""

import inspect
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras

CONFIG_FILE = "config.json"
"""The member of a `.keras` file that holds the model's configuration."""


@dataclass(frozen=True)
class NewerOption:
    """An option that newer Keras versions save in a layer's or initializer's config."""

    keys: tuple[str, ...]  # its config keys, dropped together
    is_off: Callable[[dict], bool]  # whether a saved config has it off (as a Keras without it behaves)
    owner: Callable[[], type]  # the installed Keras class whose constructor would take the first key


def _renorm_is_off(config):
    return config.get("renorm") is False  # renorm_clipping and renorm_momentum only act with renorm on


def _fan_axes_are_default(config):
    return config.get("input_axes") is None and config.get("output_axes") is None


NEWER_OPTIONS = (
    NewerOption(("renorm", "renorm_clipping", "renorm_momentum"), _renorm_is_off,
                lambda: keras.layers.BatchNormalization),
    NewerOption(("input_axes", "output_axes"), _fan_axes_are_default, lambda: keras.initializers.VarianceScaling),
)
"""The options added after Keras 3.13 that kcolor's models save."""


def missing_options():
    """The options of `NEWER_OPTIONS` that the installed Keras lacks (none on Keras 3.15 and newer)."""
    return tuple(
        option for option in NEWER_OPTIONS
        if option.keys[0] not in inspect.signature(option.owner().__init__).parameters
    )


def strip_options(config, options):
    """Removes, in place, the `options` that are off from every object of a parsed `config.json`.

    Returns:
        The number of configs changed.
    """
    changed = 0
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict):
            for option in options:
                if option.keys[0] in inner and option.is_off(inner):
                    for key in option.keys:
                        inner.pop(key, None)
                    changed += 1
        values = config.values()
    elif isinstance(config, list):
        values = config
    else:
        return 0
    return changed + sum(strip_options(value, options) for value in values)


def compatible_model_file(path, folder, options=None):
    """A copy of the `.keras` file `path`, in `folder`, that the installed Keras can open, or None when `path`
    needs no change (or is not a readable `.keras` file: loading it then fails with Keras's own message).

    Args:
        path: The `.keras` file.
        folder: Where to write the copy (e.g. a temporary folder).
        options: The options to remove where they are off; default: those the installed Keras lacks.
    """
    options = missing_options() if options is None else tuple(options)
    if not options:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read(CONFIG_FILE))
            if not strip_options(config, options):
                return None
            copy = Path(folder) / Path(path).name
            with zipfile.ZipFile(copy, "w") as target:
                for member in archive.infolist():
                    if member.filename == CONFIG_FILE:
                        target.writestr(member, json.dumps(config))
                        continue
                    with archive.open(member) as source, target.open(member, "w") as destination:
                        shutil.copyfileobj(source, destination)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # json.JSONDecodeError is a ValueError
        return None
    return copy

"""The colorizer that ships with kcolor: a GAN trained on Imagenette photos at 128 px, ready offline.

`load_pretrained()` returns it as a generator `keras.Model` (loaded from the installed package in Keras safe
mode, on any backend, without a download); `kcolor colorize PHOTO` uses it when no `--model` is given, and
`pretrained` (or `pretrained:photo-128`) names it wherever kcolor takes a model. Its model card,
`MODEL_CARD.md` beside this file, says how it was trained, how it measures and what it does badly;
`pretrained_info()` returns the same facts as a dict (with the render size and the flip averaging chosen for it
by measurement).

Example:

```python
from kcolor.colorize import colorize_photo
from kcolor.pretrained import load_pretrained, pretrained_info

generator, info = load_pretrained(), pretrained_info()
colorized = colorize_photo(generator, photo, info["render_size"], info.get("average_flips", False))
```
"""

import json
from pathlib import Path

DEFAULT_PRETRAINED = "photo-128"
"""The name of the shipped colorizer."""

PRETRAINED_PREFIX = "pretrained"
"""How a model argument names a shipped colorizer: `pretrained` or `pretrained:NAME`."""

_FOLDER = Path(__file__).resolve().parent


def available_pretrained():
    """Names of the colorizers shipped with this installation.

    Returns:
        A sorted list of names, e.g. `["photo-128"]`.
    """
    return sorted(path.stem for path in _FOLDER.glob("*.keras"))


def is_pretrained_name(model):
    """Whether a model argument names a shipped colorizer rather than a path.

    Args:
        model: A CLI `--model` value (a string or a path).

    Returns:
        True for `pretrained` and `pretrained:NAME`.
    """
    text = str(model)
    return text == PRETRAINED_PREFIX or text.startswith(PRETRAINED_PREFIX + ":")


def pretrained_path(name=DEFAULT_PRETRAINED):
    """The `.keras` file of a shipped colorizer.

    Args:
        name: `"photo-128"`, or `"pretrained"` / `"pretrained:photo-128"` as written on the command line.

    Returns:
        The file as a `pathlib.Path`.

    Raises:
        FileNotFoundError: no such shipped colorizer (the message lists the ones there are).
    """
    name = str(name)
    if is_pretrained_name(name):
        name = name.partition(":")[2] or DEFAULT_PRETRAINED
    path = _FOLDER / f"{name}.keras"
    if not path.is_file():
        known = ", ".join(available_pretrained()) or "none (a broken installation?)"
        raise FileNotFoundError(f"no shipped colorizer named {name!r}; shipped: {known}")
    return path


def pretrained_info(name=DEFAULT_PRETRAINED):
    """The facts about a shipped colorizer (`NAME.json` beside its weights) as a dict.

    Args:
        name: The shipped colorizer's name (default: `"photo-128"`), or `pretrained[:NAME]`.

    Returns:
        A dict whose keys include `preset`, `image_size` (its training crops), `render_size` (the longer side at
        which `kcolor colorize` runs it by default, chosen on held-out photos), `width_multiplier`, `dataset`
        and `metrics`.

    Raises:
        FileNotFoundError: no such shipped colorizer.
    """
    return json.loads(pretrained_path(name).with_suffix(".json").read_text())


def load_pretrained(name=DEFAULT_PRETRAINED):
    """Loads a shipped colorizer's generator (Keras safe mode; offline; TensorFlow or JAX).

    Args:
        name: The shipped colorizer's name (default: `"photo-128"`).

    Returns:
        The generator `keras.Model`: normalised lightness `(batch, H, W, 1)` in, normalised ab out.

    Raises:
        FileNotFoundError: no such shipped colorizer.
    """
    from kcolor.generator_file import load_generator_file  # (imports Keras: only when a model is loaded)

    return load_generator_file(pretrained_path(name))

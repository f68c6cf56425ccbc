"""Finding and loading saved generators: a run folder or a `.keras` file, always in Keras safe mode.

Safe mode refuses to deserialize Python code (`Lambda` layers, arbitrary functions) from a model file, so
opening a `.keras` file someone sent you cannot run their code. Nothing in kcolor turns it off.
"""

import json
import tempfile
import zipfile
from pathlib import Path

import keras

from kcolor.keras_compat import compatible_model_file

GENERATOR_FILE = "generator.keras"


def generator_path(model):
    """The generator file of `model`: a run folder (its `generator.keras`), a `.keras` file, or `pretrained`
    / `pretrained:NAME` (a colorizer shipped with kcolor, `kcolor.pretrained`)."""
    from kcolor.pretrained import is_pretrained_name, pretrained_path

    if is_pretrained_name(model):
        return pretrained_path(model)
    path = Path(model)
    if path.is_dir():
        path = path / GENERATOR_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{model} is not a training run: it has no {GENERATOR_FILE} (train one first).")
    elif not path.exists():
        raise FileNotFoundError(f"model not found: {model}")
    return path


def load_generator(model):
    """Loads a generator with Keras safe mode on.

    Args:
        model: A run folder (written by `kcolor train`), a `.keras` file, or `pretrained[:NAME]`.

    Returns:
        The generator `keras.Model`.

    Raises:
        FileNotFoundError: nothing at `model`.
        ValueError: the file is not a Keras model, or it contains code that safe mode refuses (e.g. a `Lambda`
            layer), or it is not a generator (one lightness input, two ab channels out).
    """
    path = generator_path(model)
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise OSError(error.errno, f"cannot read {path}: {error.strerror or error}") from None
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras model file (a .keras file written by Keras 3).")
    try:
        # A file saved by a newer Keras (e.g. the shipped colorizer, on Colab's older Keras) opens through a copy
        # without the options the installed Keras lacks and the file has off (kcolor.keras_compat).
        with tempfile.TemporaryDirectory() as folder:
            loadable = compatible_model_file(path, folder) or path
            generator = keras.models.load_model(loadable, safe_mode=True, compile=False)
    except ValueError as error:
        if "safe_mode" in str(error) or "Lambda" in str(error):
            raise ValueError(
                f"{path} contains Python code (such as a Lambda layer) that Keras safe mode refuses to load; "
                "kcolor only loads models without embedded code."
            ) from None
        raise ValueError(f"{path} could not be loaded as a Keras model: {_first_line(error)}") from None
    except TypeError as error:  # a class that neither Keras nor kcolor defines
        raise ValueError(f"{path} is not a kcolor generator: {_first_line(error)}") from None
    except (KeyError, AttributeError, OSError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"{path} could not be loaded as a Keras model: {_first_line(error)}") from None
    if len(generator.inputs) != 1 or generator.inputs[0].shape[-1] != 1 or generator.outputs[0].shape[-1] != 2:
        raise ValueError(f"{path} is not a kcolor generator (expected lightness (..., 1) in, ab (..., 2) out).")
    return generator


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def run_config(model):
    """The `config.json` of a run folder (or the facts of a shipped colorizer) as a dict, or None (a bare
    `.keras` file has none)."""
    from kcolor.pretrained import is_pretrained_name, pretrained_info

    if is_pretrained_name(model):
        return pretrained_info(model)
    path = Path(model) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else None


def default_render_size(model):
    """The longer side at which `kcolor colorize` runs `model` unless told otherwise.

    A shipped colorizer's own (`render_size` in its facts, chosen on held-out photos at full resolution); for
    a run folder, the size it trained at: on 1,003 CIFAR-10 test images the recipe's GAN scored 23.88 dB PSNR
    rendered at its native 32 px and 22.82 dB at 64 px, the former default (gray: 23.95 dB). 256 for a bare
    `.keras` file. `kcolor.colorize.colorize_photo` never renders above a photo's own size.
    """
    config = run_config(model) or {}
    size = config.get("render_size") or config.get("image_size")
    return int(size) if size else 256

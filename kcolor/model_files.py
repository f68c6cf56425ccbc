"""Finding and loading saved generators: a run folder or a `.keras` file, always in Keras safe mode.

Safe mode refuses to deserialize Python code (`Lambda` layers, arbitrary functions) from a model file, so
opening a `.keras` file someone sent you cannot run their code. Nothing in kcolor turns it off.
"""

import json
import zipfile
from pathlib import Path

import keras

GENERATOR_FILE = "generator.keras"


def generator_path(model):
    """The generator file of `model`: a run folder (its `generator.keras`) or a `.keras` file."""
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
        model: A run folder (written by `kcolor train`) or a `.keras` file.

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
        generator = keras.models.load_model(path, safe_mode=True, compile=False)
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
    """The `config.json` of a run folder as a dict, or None (a bare `.keras` file has none)."""
    path = Path(model) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else None

"""Loading one generator `.keras` file, always in Keras safe mode.

Safe mode refuses to deserialize Python code (`Lambda` layers, arbitrary functions) from a model file, so
opening a `.keras` file someone sent you cannot run their code. Nothing in kcolor turns it off.

This module knows files only; `kcolor.model_files` turns what a user names (a run folder, a `.keras` file,
`pretrained[:NAME]`) into the file, and `kcolor.pretrained` loads its shipped colorizers through here.
"""

import json
import tempfile
import zipfile
from pathlib import Path

import keras

from kcolor.keras_compat import compatible_model_file


def load_generator_file(path):
    """Loads the generator saved in the `.keras` file `path`, with Keras safe mode on.

    A file saved by a newer Keras (e.g. the shipped colorizer, on Colab's older Keras) opens through a copy
    without the options the installed Keras lacks and the file has off (`kcolor.keras_compat`).

    Args:
        path: A `.keras` file written by Keras 3.

    Returns:
        The generator `keras.Model`.

    Raises:
        OSError: the file cannot be read (one line naming it).
        ValueError: the file is not a Keras model, or it contains code that safe mode refuses (e.g. a `Lambda`
            layer), or it is not a generator (one lightness input, two ab channels out).

    Example:

    ```python
    generator = load_generator_file("runs/demo/generator.keras")
    ```
    """
    path = Path(path)
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise OSError(error.errno, f"cannot read {path}: {error.strerror or error}") from None
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras model file (a .keras file written by Keras 3).")
    try:
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

"""What a model argument names: a run folder, a generator `.keras` file, or a shipped colorizer.

`kcolor colorize --model`, `kcolor evaluate --model`, the notebooks and the benchmarks all take one string for
"a generator"; this module turns it into the file (`generator_path`), the loaded generator (`load_generator`,
always in Keras safe mode through `kcolor.generator_file`), the run's options (`run_config`) and the size to
render at (`default_render_size`).
"""

import json
from pathlib import Path

from kcolor.generator_file import load_generator_file
from kcolor.pretrained import is_pretrained_name, pretrained_info, pretrained_path

GENERATOR_FILE = "generator.keras"


def generator_path(model):
    """The generator file that `model` names.

    Args:
        model: A run folder (its `generator.keras`), a `.keras` file, or `pretrained` / `pretrained:NAME` (a
            colorizer shipped with kcolor, `kcolor.pretrained`).

    Returns:
        The file as a `pathlib.Path`.

    Raises:
        FileNotFoundError: nothing at `model`, a folder without a generator, or an unknown shipped name.
    """
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
        OSError: the file cannot be read.
        ValueError: the file is not a Keras model, or it contains code that safe mode refuses (e.g. a `Lambda`
            layer), or it is not a generator (one lightness input, two ab channels out).

    Example:

    ```python
    generator = load_generator("runs/demo")  # or "pretrained", or "runs/demo/generator.keras"
    ```
    """
    return load_generator_file(generator_path(model))


def copy_generator_weights(model, generator):
    """Starts `generator` from the weights of the generator `model` names (a run folder, `.keras` or shipped).

    For a GAN phase trained on its own after an L1-only run (`TrainConfig.initial_generator`): both must have the
    same architecture (preset and width multiplier).

    Args:
        model: What `load_generator` takes.
        generator: The `keras.Model` whose weights are replaced.

    Raises:
        ValueError: the two generators differ in their weights' count or shapes (a message naming both).
    """
    source = load_generator(model)
    shapes = [tuple(weight.shape) for weight in source.weights]
    expected = [tuple(weight.shape) for weight in generator.weights]
    if shapes != expected:
        raise ValueError(
            f"{model} is a generator of another architecture ({len(shapes)} weights, {source.count_params():,} "
            f"parameters) than this run's ({len(expected)} weights, {generator.count_params():,} parameters): "
            "start from a run with the same --preset and --width-multiplier."
        )
    generator.set_weights(source.get_weights())


def run_config(model):
    """The options `model` was trained with.

    Args:
        model: A run folder, a `.keras` file, or `pretrained[:NAME]`.

    Returns:
        A run folder's `config.json` (or a shipped colorizer's facts) as a dict, or None: a bare `.keras` file
        has none.
    """
    if is_pretrained_name(model):
        return pretrained_info(model)
    path = Path(model) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else None


def default_render_size(model):
    """The longer side at which `kcolor colorize` runs `model` unless told otherwise.

    A shipped colorizer's own (`render_size` in its facts, chosen on held-out photos at full resolution); for a
    run folder, the size it trained at (why: docs/TRAINING.md, "Render size of a run"); 256 for a bare `.keras`
    file. `kcolor.colorize.colorize_photo` never renders above a photo's own size.

    Args:
        model: A run folder, a `.keras` file, or `pretrained[:NAME]`.

    Returns:
        The size in pixels, an int.
    """
    config = run_config(model) or {}
    size = config.get("render_size") or config.get("image_size")
    return int(size) if size else 256


def default_average_flips(model):
    """Whether `kcolor colorize` averages `model`'s colors over the photo's mirror images unless told otherwise.

    True for a shipped colorizer whose facts ask for it (`average_flips`, chosen on held-out photos:
    docs/RESULTS.md), False for run folders and `.keras` files.

    Args:
        model: A run folder, a `.keras` file, or `pretrained[:NAME]`.

    Returns:
        A bool.
    """
    return bool((run_config(model) or {}).get("average_flips", False))

"""Tests of `kcolor.keras_compat`: a generator saved by a newer Keras (3.15 records `renorm` and the initializers'
fan axes even when they are off) opens on the installed Keras, Colab's 3.13.2 included, with the same outputs;
options that are on are never removed."""

import json
import zipfile

import keras
import numpy as np
import pytest

from kcolor.keras_compat import NEWER_OPTIONS, compatible_model_file, missing_options, strip_options
from kcolor.model_files import load_generator
from kcolor.models import build_generator

# What Keras 3.15 writes for the options when they are off.
NEWER_DEFAULTS = {
    "BatchNormalization": {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99},
    "VarianceScaling": {"input_axes": None, "output_axes": None},
}
VARIANCE_SCALING = {"VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
                    "LecunNormal"}


def add_newer_options(config, overrides=None):
    """Writes the options into every config that a Keras 3.15 would save them in; returns how many."""
    count = 0
    if isinstance(config, dict):
        name = config.get("class_name")
        group = "VarianceScaling" if name in VARIANCE_SCALING else name
        if group in NEWER_DEFAULTS and isinstance(config.get("config"), dict):
            config["config"].update({**NEWER_DEFAULTS[group], **(overrides or {}).get(group, {})})
            count += 1
        values = config.values()
    else:
        values = config if isinstance(config, list) else []
    return count + sum(add_newer_options(value, overrides) for value in values)


def rewrite_config(source, target, change):
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as copy:
        for member in archive.infolist():
            data = archive.read(member)
            if member.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            copy.writestr(member, data)
    return target


def saved_keys(path):
    with zipfile.ZipFile(path) as archive:
        text = archive.read("config.json").decode()
    return {key for option in NEWER_OPTIONS for key in option.keys if f'"{key}"' in text}


@pytest.fixture(scope="module")
def saved_generator(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compat")
    generator = build_generator(width_multiplier=0.125)
    path = folder / "generator.keras"
    generator.save(path)
    lightness = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    return path, lightness, np.asarray(generator(lightness, training=False))


def test_the_missing_options_follow_the_installed_keras_version():
    version = tuple(int(part) for part in keras.__version__.split(".")[:2])
    missing = {option.keys[0] for option in missing_options()}
    assert ("renorm" in missing) == (version < (3, 14))
    assert ("input_axes" in missing) == (version < (3, 15))


def test_only_options_that_are_off_are_removed():
    config = {"layers": [
        {"class_name": "BatchNormalization", "config": {"axis": -1, "renorm": False, "renorm_clipping": None,
                                                        "renorm_momentum": 0.99}},
        {"class_name": "BatchNormalization", "config": {"axis": -1, "renorm": True, "renorm_clipping": None,
                                                        "renorm_momentum": 0.9}},
        {"class_name": "Conv2D", "config": {"kernel_initializer": {
            "class_name": "GlorotUniform", "config": {"seed": None, "input_axes": None, "output_axes": None}}}},
        {"class_name": "Conv2D", "config": {"kernel_initializer": {
            "class_name": "HeNormal", "config": {"seed": 1, "input_axes": [0, 1], "output_axes": None}}}},
    ]}
    assert strip_options(config, NEWER_OPTIONS) == 2
    layers = config["layers"]
    assert layers[0]["config"] == {"axis": -1}
    assert layers[1]["config"]["renorm"] is True and layers[1]["config"]["renorm_momentum"] == 0.9
    assert layers[2]["config"]["kernel_initializer"]["config"] == {"seed": None}
    assert layers[3]["config"]["kernel_initializer"]["config"]["input_axes"] == [0, 1]


def test_a_generator_from_a_newer_keras_loads_with_the_same_outputs(saved_generator, tmp_path):
    path, lightness, expected = saved_generator
    newer = rewrite_config(path, tmp_path / "newer.keras", add_newer_options)
    assert saved_keys(newer) == {key for option in NEWER_OPTIONS for key in option.keys}
    # On the installed Keras: natively from 3.15 on, through the compatible copy before (Colab's 3.13.2).
    loaded = load_generator(newer)
    np.testing.assert_allclose(np.asarray(loaded(lightness, training=False)), expected, atol=1e-6)
    # The copy an older Keras gets: none of the options, the same network and weights.
    (tmp_path / "copy").mkdir()
    copy = compatible_model_file(newer, tmp_path / "copy", options=NEWER_OPTIONS)
    assert copy is not None and saved_keys(copy) == set()
    stripped = keras.models.load_model(copy, safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(stripped(lightness, training=False)), expected, atol=1e-6)


def test_files_that_need_no_change_are_not_copied(saved_generator, tmp_path):
    path, _, _ = saved_generator
    renorm_on = rewrite_config(
        path, tmp_path / "renorm_on.keras",
        lambda config: add_newer_options(config, {"BatchNormalization": {"renorm": True},
                                                  "VarianceScaling": {"input_axes": [0]}}),
    )
    assert compatible_model_file(renorm_on, tmp_path, options=NEWER_OPTIONS) is None
    assert compatible_model_file(path, tmp_path, options=()) is None
    (tmp_path / "text.keras").write_text("not a zip file")
    assert compatible_model_file(tmp_path / "text.keras", tmp_path, options=NEWER_OPTIONS) is None
    with zipfile.ZipFile(tmp_path / "no_config.keras", "w") as archive:
        archive.writestr("readme.txt", "no config.json")
    assert compatible_model_file(tmp_path / "no_config.keras", tmp_path, options=NEWER_OPTIONS) is None

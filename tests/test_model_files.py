"""Tests of `kcolor.model_files`: generators load in Keras safe mode, and every file that is not one (code in a
Lambda layer, not a model at all, a foreign class, the wrong network) is refused with a one-line message."""

import json
import zipfile
from pathlib import Path

import keras
import pytest

import kcolor
from kcolor.model_files import load_generator
from kcolor.models import build_generator


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "generator.keras"
    build_generator(width_multiplier=0.125).save(path)
    return path


def assert_one_line_error(model, message):
    with pytest.raises(ValueError, match=message) as error:
        load_generator(model)
    assert "\n" not in str(error.value)


def test_a_run_folder_and_a_generator_file_load(generator_file):
    for model in (generator_file.parent, generator_file):
        generator = load_generator(model)
        assert generator.inputs[0].shape[-1] == 1 and generator.outputs[0].shape[-1] == 2


def test_a_lambda_layer_is_refused(tmp_path):
    lightness = keras.Input((None, None, 1))
    ab = keras.layers.Conv2D(2, 1)(keras.layers.Lambda(lambda tensor: tensor * 2)(lightness))
    path = tmp_path / "lambda.keras"
    keras.Model(lightness, ab).save(path)
    assert_one_line_error(path, "contains Python code \\(such as a Lambda layer\\) that Keras safe mode refuses")


def test_files_that_are_not_keras_models_are_named_as_such(tmp_path, generator_file):
    (tmp_path / "text.keras").write_text("hello")
    (tmp_path / "empty.keras").write_bytes(b"")
    (tmp_path / "weights.h5").write_bytes(generator_file.read_bytes())
    (tmp_path / "torn.keras").write_bytes(generator_file.read_bytes()[:2000])
    with zipfile.ZipFile(tmp_path / "archive.keras", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    for name in ("text.keras", "empty.keras", "weights.h5", "torn.keras"):
        assert_one_line_error(tmp_path / name, "is not a Keras model file")
    assert_one_line_error(tmp_path / "archive.keras", "could not be loaded as a Keras model")


def test_foreign_classes_and_other_networks_are_refused(tmp_path, generator_file):
    with zipfile.ZipFile(generator_file) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(parts["config.json"])
    config.update(class_name="Popen", module="subprocess")
    parts["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "foreign.keras", "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert_one_line_error(tmp_path / "foreign.keras", "is not a kcolor generator: Could not locate class 'Popen'")

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(tmp_path / "dense.keras")
    assert_one_line_error(tmp_path / "dense.keras", "is not a kcolor generator")


def test_missing_models_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="model not found"):
        load_generator(tmp_path / "missing.keras")
    with pytest.raises(FileNotFoundError, match="is not a training run: it has no generator.keras"):
        load_generator(tmp_path)


def test_nothing_in_kcolor_turns_safe_mode_off():
    sources = sorted(Path(kcolor.__file__).parent.rglob("*.py"))
    assert len(sources) > 20
    for source in sources:
        text = source.read_text()
        for unsafe in ("safe_mode=False", "enable_unsafe_deserialization"):
            assert unsafe not in text.replace(" ", ""), f"{source} uses {unsafe}"


def test_flip_averaging_follows_the_model_unless_the_command_line_says(tmp_path, generator_file, monkeypatch):
    from kcolor import cli_colorize, model_files
    from kcolor.cli import build_parser
    from kcolor.pretrained import pretrained_info

    assert model_files.default_average_flips("pretrained") is bool(pretrained_info().get("average_flips", False))
    assert model_files.default_average_flips(generator_file) is False  # a bare .keras file has no facts
    (tmp_path / "config.json").write_text(json.dumps({"image_size": 32, "average_flips": True}))
    assert model_files.default_average_flips(tmp_path) is True
    parse = build_parser().parse_args
    assert cli_colorize._average_flips(parse(["colorize", "a.jpg", "--model", str(tmp_path)])) is True
    assert cli_colorize._average_flips(parse(["colorize", "a.jpg", "--model", str(tmp_path), "--no-average-flips"])) is False
    assert cli_colorize._average_flips(parse(["colorize", "a.jpg", "--model", str(generator_file), "--average-flips"])) is True

"""The colorizer shipped inside the package: it is there, small, documented, loads offline and colorizes."""

import json
import sys

import numpy as np
import pytest
from conftest import BLOCK_TENSORFLOW, finish, start_process, subprocess_env

from kcolor.colorize import colorize_photo
from kcolor.model_files import default_render_size, generator_path
from kcolor.pretrained import (
    DEFAULT_PRETRAINED,
    available_pretrained,
    is_pretrained_name,
    load_pretrained,
    pretrained_info,
    pretrained_path,
)

MAX_BYTES = 25_000_000  # small enough to ship inside the package


@pytest.fixture(scope="module")
def shipped():
    return load_pretrained()


def test_the_photo_colorizer_ships_small_with_its_facts_and_model_card():
    path = pretrained_path()
    assert DEFAULT_PRETRAINED in available_pretrained()
    assert path.stat().st_size <= MAX_BYTES
    info = pretrained_info()
    assert info["preset"] == "photo-128" and info["image_size"] == 128
    assert 0 < info["render_size"] and info["render_size"] % 64 == 0
    assert {"psnr", "colorfulness", "judge_gap"} <= set(info["metrics"]["model"])
    card = (path.parent / "MODEL_CARD.md").read_text()
    for needle in ("kcolor train", "Imagenette", "What it does badly", "CPU", info["command"]):
        assert needle in card


def test_pretrained_names_resolve_everywhere_a_model_is_taken():
    assert is_pretrained_name("pretrained") and is_pretrained_name("pretrained:photo-128")
    assert not is_pretrained_name("runs/pretrained-ish")
    assert generator_path("pretrained") == generator_path(f"pretrained:{DEFAULT_PRETRAINED}") == pretrained_path()
    assert default_render_size("pretrained") == pretrained_info()["render_size"]
    with pytest.raises(FileNotFoundError, match="shipped: photo-128"):
        pretrained_path("pretrained:nope")


def test_the_shipped_model_colorizes_a_photo_keeping_its_lightness(shipped):
    from skimage import data

    photo = data.chelsea()  # 300 x 451, a cat: not an Imagenette class, so this tests generalisation a little
    colorized = colorize_photo(shipped, photo, render_size=default_render_size("pretrained"))
    assert colorized.shape == photo.shape and colorized.dtype == np.uint8
    from kcolor.evaluation import colorfulness, rgb_to_lab

    lightness_error = np.abs(rgb_to_lab(colorized[None])[..., 0] - rgb_to_lab(photo[None])[..., 0])
    assert np.percentile(lightness_error, 99) < 3.0  # its own L*, up to clipping of out-of-gamut colors
    assert colorfulness(colorized[None]) > 5.0  # gray is 0; a colorizer that gave up would be near it


def test_colorize_never_renders_above_the_photo_size():
    seen = []

    def generator(lightness, training=False):
        seen.append(tuple(lightness.shape[1:3]))
        return np.zeros(tuple(lightness.shape[:3]) + (2,), np.float32)

    generator.layers = []  # generator_size_multiple: 1
    colorize_photo(generator, np.full((40, 60, 3), 128, np.uint8), render_size=512)
    assert seen == [(40, 60)]


def test_a_run_folder_renders_at_its_training_size(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"image_size": 32}))
    assert default_render_size(tmp_path) == 32
    assert default_render_size(tmp_path / "generator.keras") == 256


def test_kcolor_colorize_uses_the_shipped_model_without_model(tmp_path, capsys):
    from kcolor.cli import main

    assert main(["colorize", "example:chelsea", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "chelsea_colorized.png").is_file()


JAX_LOAD = """
import numpy as np
from kcolor.pretrained import load_pretrained
generator = load_pretrained()
ab = np.asarray(generator(np.zeros((1, 64, 64, 1), "float32")))
print("shape", ab.shape, bool(np.isfinite(ab).all()))
"""


@pytest.fixture
def loaded_on_jax(tmp_path):
    """Loads the shipped model and runs it once with KERAS_BACKEND=jax, TensorFlow blocked (in a subprocess)."""
    process = start_process([sys.executable, "-c", BLOCK_TENSORFLOW + JAX_LOAD], log_to=tmp_path / "jax",
                            env=subprocess_env("jax"))
    return finish(process, timeout=600)


def test_the_shipped_model_loads_on_jax_without_tensorflow(loaded_on_jax):
    assert loaded_on_jax.returncode == 0, loaded_on_jax.stderr[-4000:]
    assert "shape (1, 64, 64, 2) True" in loaded_on_jax.stdout

"""`benchmarks.photo_soup`: generators' weights averaged into one model that `kcolor` loads like any other."""

import numpy as np
import pytest


def _saved_generator(path, seed, width_multiplier=0.125):
    import keras

    from kcolor.models import build_generator

    keras.utils.set_random_seed(seed)
    generator = build_generator("photo-128", width_multiplier=width_multiplier)
    for weight in generator.non_trainable_weights:  # batch-norm statistics are averaged too: make them differ
        weight.assign(np.random.default_rng(seed).uniform(0.5, 1.5, weight.shape).astype("float32"))
    generator.save(path)
    return [keras.ops.convert_to_numpy(weight) for weight in generator.weights]


def test_every_weight_is_the_weighted_mean_and_the_soup_colorizes(tmp_path):
    from benchmarks.photo_soup import average_generators, main
    from kcolor.colorize import colorize_photo
    from kcolor.model_files import load_generator

    first = _saved_generator(tmp_path / "a.keras", 1)
    second = _saved_generator(tmp_path / "b.keras", 2)
    assert not np.allclose(first[0], second[0])

    soup = average_generators([tmp_path / "a.keras", tmp_path / "b.keras"], weights=[3, 1])
    for index, weight in enumerate(soup.weights):  # the trainable ones and the moving statistics alike
        np.testing.assert_allclose(np.asarray(weight), 0.75 * first[index] + 0.25 * second[index], rtol=1e-6, atol=1e-7)

    main([str(tmp_path / "a.keras"), str(tmp_path / "b.keras"), "--out", str(tmp_path / "soup" / "equal.keras")])
    equal = load_generator(tmp_path / "soup" / "equal.keras")
    for index, weight in enumerate(equal.weights):
        np.testing.assert_allclose(np.asarray(weight), (first[index] + second[index]) / 2, rtol=1e-6, atol=1e-7)
    assert (tmp_path / "soup" / "equal.json").is_file()
    photo = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    colorized = colorize_photo(equal, photo, 32, False)
    assert colorized.shape == photo.shape and colorized.dtype == np.uint8


def test_refuses_what_cannot_be_averaged(tmp_path):
    from benchmarks.photo_soup import average_generators

    _saved_generator(tmp_path / "a.keras", 1)
    _saved_generator(tmp_path / "wide.keras", 2, width_multiplier=0.25)
    with pytest.raises(ValueError, match="at least two"):
        average_generators([tmp_path / "a.keras"])
    with pytest.raises(ValueError, match="architecture"):
        average_generators([tmp_path / "a.keras", tmp_path / "wide.keras"])
    with pytest.raises(ValueError, match="non-negative"):
        average_generators([tmp_path / "a.keras", tmp_path / "a.keras"], weights=[1, -1])
    with pytest.raises(ValueError, match="non-negative"):
        average_generators([tmp_path / "a.keras", tmp_path / "a.keras"], weights=[1])


@pytest.mark.parametrize("chroma", [None, {"chroma_weight": 125.0, "chroma_penalty": "squared"}])
def test_a_soup_ships_with_its_run_config_and_the_chroma_term_recorded(tmp_path, chroma):
    import json

    from benchmarks.photo_soup import average_generators
    from benchmarks.photos import package
    from kcolor.model_files import load_generator

    run = tmp_path / "run"
    run.mkdir()
    _saved_generator(run / "generator.keras", 3)  # the run's own final generator: not the one shipped
    config = {"preset": "photo-128", "image_size": 128, "width_multiplier": 0.125, "batch_size": 16, "epochs": 2,
              "l1_warmup_epochs": 0, "l1_weight": 25.0, "generator_ema": 0.99, "seed": 1, "dataset": "folder:x"}
    (run / "config.json").write_text(json.dumps({**config, **(chroma or {})}))  # no chroma keys: an older run
    _saved_generator(tmp_path / "a.keras", 1)
    _saved_generator(tmp_path / "b.keras", 2)
    average_generators([tmp_path / "a.keras", tmp_path / "b.keras"]).save(tmp_path / "soup.keras")

    facts = {"name": "photo", "render_size": 128}
    info = package(run, tmp_path / "shipped", facts, generator_file=tmp_path / "soup.keras")
    expected = chroma or {"chroma_weight": 0.0, "chroma_penalty": "absolute"}
    assert {key: info[key] for key in expected} == expected
    assert json.loads((tmp_path / "shipped" / "photo.json").read_text()) == info
    shipped = load_generator(tmp_path / "shipped" / "photo.keras")
    soup = load_generator(tmp_path / "soup.keras")
    for shipped_weight, soup_weight in zip(shipped.weights, soup.weights):
        np.testing.assert_array_equal(np.asarray(shipped_weight), np.asarray(soup_weight))

"""`benchmarks.photo_semantic`: the generator's encoder learns classes from gray photos, and `kcolor train` can start
from it; `benchmarks.photo_class_warmup`: the L1 warm-up that keeps the classes while it learns color."""

import json

import numpy as np
import pytest
from PIL import Image


def _write_two_classes(root, rng, size=64):
    """Colorful photos in two classes that differ only in lightness: bright ones and dark ones."""
    for split, count in (("train", 12), ("validation", 6)):
        for name, level in (("bright", 190), ("dark", 50)):
            (root / split / name).mkdir(parents=True)
            for index in range(count):
                tint = rng.permutation([40, -25, 0])  # a strong hue, so no photo is skipped as colorless
                noise = rng.integers(-20, 20, (size, size, 1))
                image = np.clip(level + tint + noise, 0, 255).astype(np.uint8)
                Image.fromarray(image).save(root / split / name / f"{index}.png")


def test_the_encoder_learns_the_classes_from_gray_and_the_saved_generator_starts_a_run(tmp_path):
    import keras

    from benchmarks.photo_semantic import build_encoder_classifier, linear_probe, pretrain_encoder
    from kcolor.model_files import copy_generator_weights, load_generator
    from kcolor.models import build_generator

    _write_two_classes(tmp_path / "photos", np.random.default_rng(0))
    out = tmp_path / "semantic" / "encoder.keras"
    policy = keras.config.dtype_policy().name
    info = pretrain_encoder(f"folder:{tmp_path / 'photos'}", out, width_multiplier=0.125, image_size=64, epochs=10,
                            batch_size=4, learning_rate=2e-3, verbose=0)  # fmt: skip
    assert keras.config.dtype_policy().name == policy  # the policy is set only inside
    assert info["class_names"] == ["bright", "dark"] and info["validation_photos"] == 12
    assert info["validation_gray_accuracy"] >= 0.9  # lightness alone tells the classes apart; chance is 0.5
    # (60 steps: enough for batch norm's moving statistics, which the inference-mode accuracy uses, to settle)

    saved = load_generator(out)
    assert {weight.dtype for weight in saved.weights} == {"float32"}
    fresh = build_generator("photo-128", width_multiplier=0.125)
    before = keras.ops.convert_to_numpy(fresh.get_layer("encoder_1_conv").kernel)
    copy_generator_weights(out, fresh)  # what `kcolor train --initial-generator` does
    after = keras.ops.convert_to_numpy(fresh.get_layer("encoder_1_conv").kernel)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, keras.ops.convert_to_numpy(saved.get_layer("encoder_1_conv").kernel))

    probe = linear_probe({"pretrained": out, "random": build_generator("photo-128", width_multiplier=0.125)},
                         f"folder:{tmp_path / 'photos'}", image_size=64, epochs=100)  # fmt: skip
    assert probe["photos"] == {"train": 24, "validation": 12}
    assert probe["pretrained"]["validation_accuracy"] >= 0.9  # its features name the class
    assert set(probe["random"]) == {"train_accuracy", "validation_accuracy"}

    classifier = build_encoder_classifier(fresh, 2)
    assert classifier.get_layer("encoder_1_conv") is fresh.get_layer("encoder_1_conv")  # shared, not copied
    assert classifier.output.shape == (None, 2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_encoder_classifier(fresh, 1)


def test_the_class_guided_warmup_learns_color_and_keeps_the_classes(tmp_path):
    import keras

    from benchmarks.photo_class_warmup import class_guided_warmup
    from benchmarks.photo_semantic import pretrain_encoder
    from kcolor.model_files import load_generator

    _write_two_classes(tmp_path / "photos", np.random.default_rng(0))
    dataset, encoder = f"folder:{tmp_path / 'photos'}", tmp_path / "semantic" / "encoder.keras"
    small = dict(width_multiplier=0.125, image_size=64, batch_size=4, verbose=0)
    pretrain_encoder(dataset, encoder, epochs=10, learning_rate=2e-3, **small)
    out = tmp_path / "classwarm" / "generator.keras"
    with pytest.raises(ValueError, match="is missing"):
        class_guided_warmup(dataset, tmp_path / "elsewhere.keras", out, **small)
    with pytest.raises(ValueError, match="zero or positive"):
        class_guided_warmup(dataset, encoder, out, class_weight=-1.0, **small)

    info = class_guided_warmup(dataset, encoder, out, class_weight=0.5, epochs=3, moving_average=0.0, **small)
    assert info["validation_gray_accuracy_before"] >= 0.9  # it starts from the pretrained head, not a fresh one
    assert info["validation_gray_accuracy"] >= 0.9  # and the class term keeps it (chance is 0.5)
    last = info["last_epoch"]
    assert np.isfinite(last["ab_loss"]) and 0 < last["ab_loss"] < 1  # mean |ab error| on normalised ab
    assert last["class_logits_accuracy"] >= 0.75
    assert json.loads(out.with_suffix(".json").read_text())["class_weight"] == 0.5

    started, warmed = load_generator(encoder), load_generator(out)
    assert {weight.dtype for weight in warmed.weights} == {"float32"}
    decoder_before = keras.ops.convert_to_numpy(started.get_layer("ab").kernel)
    decoder_after = keras.ops.convert_to_numpy(warmed.get_layer("ab").kernel)
    assert not np.allclose(decoder_before, decoder_after)  # it learnt color

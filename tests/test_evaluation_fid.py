"""FID: the Fréchet distance on known Gaussians, and the Inception code path with random weights."""

import numpy as np
import pytest

from kcolor.evaluation import FIDUnavailableError, evaluate_predictions, fid, fid_from_features, frechet_distance
from kcolor.evaluation import frechet_inception as fid_module

SMALL_INCEPTION = 75  # InceptionV3's minimum input side keeps the code-path test fast


def test_frechet_distance_of_known_gaussians():
    # |μa - μb|² = 3; Tr(I + 4I - 2 sqrt(4I)) = 3 * (1 + 4 - 4) = 3.
    assert frechet_distance(np.zeros(3), np.eye(3), np.ones(3), 4 * np.eye(3)) == pytest.approx(6.0)
    assert frechet_distance(np.ones(3), 2 * np.eye(3), np.ones(3), 2 * np.eye(3)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("num_vectors", [12, 60])  # fewer / more vectors than the 16 dimensions
def test_fid_from_features_matches_the_covariance_formula(num_vectors):
    generator = np.random.default_rng(0)
    features_a = generator.normal(size=(num_vectors, 16))
    features_b = 2.0 * generator.normal(size=(num_vectors + 3, 16)) + 0.5
    expected = frechet_distance(
        features_a.mean(axis=0),
        np.cov(features_a, rowvar=False),
        features_b.mean(axis=0),
        np.cov(features_b, rowvar=False),
    )
    assert fid_from_features(features_a, features_b) == pytest.approx(expected, rel=1e-6)
    assert fid_from_features(features_a, features_a) == pytest.approx(0.0, abs=1e-9)


def test_fid_needs_two_images_per_set():
    with pytest.raises(ValueError, match="at least two"):
        fid_from_features(np.zeros((1, 4)), np.zeros((5, 4)))


def test_fid_code_path_with_random_weights(photos):
    same = fid(photos, photos, weights=None, image_size=SMALL_INCEPTION)
    different = fid(photos, 255 - photos, weights=None, image_size=SMALL_INCEPTION)
    assert same == pytest.approx(0.0, abs=1e-9)
    assert different > 0.0
    assert different > 1e6 * max(same, 1e-300)


def test_fid_rejects_inputs_inception_cannot_take(photos):
    with pytest.raises(ValueError, match="at least 75"):
        fid(photos, photos, weights=None, image_size=32)


@pytest.fixture
def offline_inception(monkeypatch):
    """Makes the ImageNet weights download fail the way Keras does offline."""
    import keras

    def failing_inception(*args, weights=None, **kwargs):
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -2] Name or service not known"
        )

    fid_module._inception_model.cache_clear()
    monkeypatch.setattr(keras.applications, "InceptionV3", failing_inception)
    yield
    fid_module._inception_model.cache_clear()


def test_offline_imagenet_weights_give_a_clear_error(photos, offline_inception):
    with pytest.raises(FIDUnavailableError, match="download failed") as error:
        fid(photos, photos)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_report_skips_fid_with_a_note_when_offline(photos, offline_inception):
    report = evaluate_predictions(photos, {}, metrics=("accuracy", "fid"), verbose=False)
    assert report.metrics == ["accuracy"]
    assert "fid" not in report.overall["ground truth"]
    assert any(note.startswith("FID skipped") and "download failed" in note for note in report.notes)

"""Full mode must not break silently: each course run's full-mode configuration trains, on TFDS mock data.

The notebooks' full mode (`kcolor.tutorial.course_config(kind, smoke=False)`) is meant for a Colab GPU and
downloads its datasets, so CI never runs it. Here every course run starts from exactly that configuration,
reads its real TFDS dataset spec through `tfds.testing.mock_data` (random images of the dataset's feature
shapes, no network), and trains at its real preset, image size and batch size; only the number of epochs and
steps and the network width are cut, so that it takes seconds. The four trainings run in one process of their
own, a background job of the session (tests/conftest.py); the tests check what they left.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import NO_GRAPH_OPTIMIZER, finish, start_process, stop

from kcolor.data import SkippedImagesWarning, parse_spec
from kcolor.models import get_preset
from kcolor.tutorial import RUN_KINDS, course_config

pytestmark = pytest.mark.slow  # trains in subprocesses

tfds = pytest.importorskip("tensorflow_datasets")

QUICK = dict(epochs=2, steps_per_epoch=1, width_multiplier=1 / 16)  # what is cut for time, nothing else


def quick_config(kind, course_dir):
    """`(full, quick)`: the course run's full-mode configuration, resolved, and the same cut by `QUICK`."""
    configured = course_config(kind, smoke=False, course_dir=course_dir)
    quick = dataclasses.replace(configured, **QUICK)
    if configured.l1_warmup_epochs is not None:  # an explicit warm-up must fit into the shorter run
        quick = dataclasses.replace(quick, l1_warmup_epochs=min(configured.l1_warmup_epochs, 1))
    return configured.resolved(), quick


def train_every_kind(folder):
    """Trains every course run's `quick_config` on TFDS mock data in `folder`; writes what the test checks to
    `folder/<kind>.json`. Runs in a background job (below), in a process of its own."""
    from kcolor.training import train

    for kind in RUN_KINDS:
        full, quick = quick_config(kind, folder)
        with tfds.testing.mock_data(num_examples=2 * full.batch_size), warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedImagesWarning)  # some mock images are under 8 px: too small
            result = train(quick)
        colors = result.gan.generator.predict(np.zeros((1, full.image_size, full.image_size, 1), np.float32),
                                              verbose=0)  # fmt: skip
        facts = dict(run_dir=str(result.run_dir), stopped_early_reason=result.stopped_early_reason,
                     generator_path=str(result.generator_path), samples_dir=str(result.samples_dir),
                     checkpoint_dir=str(result.checkpoint_dir), history_path=str(result.history_path),
                     prediction_shape=list(colors.shape))  # fmt: skip
        (folder / f"{kind}.json").write_text(json.dumps(facts))


def start_training(folder):
    tests = str(Path(__file__).resolve().parent)
    code = (f"{NO_GRAPH_OPTIMIZER}import sys; sys.path.insert(0, {tests!r})\n"
            f"from test_course_full_mode import train_every_kind\n"
            f"from pathlib import Path\ntrain_every_kind(Path({str(folder)!r}))")
    process = start_process([sys.executable, "-c", code], log_to=folder / "train")
    return process


@pytest.fixture(scope="module")
def full_mode_runs(tmp_path_factory):
    """The folder where `train_every_kind` trained every course run (in a subprocess)."""
    folder = tmp_path_factory.mktemp("course_full_mode")
    process = start_training(folder)
    try:
        result = finish(process, timeout=1800)
    finally:
        stop([process])
    assert result.returncode == 0, f"training failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    return folder


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_the_full_mode_course_run_trains_on_tfds_mock_data(kind, full_mode_runs):
    full, quick = quick_config(kind, full_mode_runs)
    assert parse_spec(full.dataset).kind == "tfds", "full mode reads a TFDS dataset"
    assert full.image_size == get_preset(full.preset).image_size and full.width_multiplier == 1.0
    unchanged = {field.name for field in dataclasses.fields(full)} - set(QUICK) - {"l1_warmup_epochs"}
    resolved = quick.resolved()
    assert {name: getattr(resolved, name) for name in unchanged} == {name: getattr(full, name) for name in unchanged}

    facts = json.loads((full_mode_runs / f"{kind}.json").read_text())
    run = Path(facts["run_dir"])
    assert run == full_mode_runs / kind and facts["stopped_early_reason"] is None
    assert Path(facts["generator_path"]).is_file() and (run / "config.json").is_file()
    samples = sorted(path.name for path in Path(facts["samples_dir"]).glob("epoch_*.png"))
    assert samples == ["epoch_001.png", "epoch_002.png"]
    assert any(Path(facts["checkpoint_dir"]).iterdir())
    saved = json.loads((run / "config.json").read_text())
    assert (saved["dataset"], saved["preset"], saved["image_size"], saved["batch_size"]) == (
        full.dataset, full.preset, full.image_size, full.batch_size)  # fmt: skip
    with open(facts["history_path"]) as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2
    losses = [float(value) for row in rows for name, value in row.items() if name.endswith("loss") and value]
    assert losses and all(math.isfinite(loss) for loss in losses)
    if not full.l1_only:
        assert any(name.startswith("d_") for name in rows[-1]), "the second epoch plays the GAN game"
    assert facts["prediction_shape"] == [1, full.image_size, full.image_size, 2]


def test_imagenette_is_a_tfds_dataset_spec_with_labels_and_class_names():
    from kcolor.data import class_names, load_arrays, load_dataset

    names = class_names("imagenette/320px-v2")
    if names is not None:  # TFDS knows them offline (its code lists the WordNet ids)
        assert len(names) == 10 and names[0] == "n01440764" and all(name.startswith("n") for name in names)
    with tfds.testing.mock_data(num_examples=24), warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        batches = list(load_dataset("imagenette/320px-v2", "train", 128, 4, seed=0, with_labels=True,
                                    drop_remainder=True).as_numpy_iterator())  # fmt: skip
        images, labels = load_arrays("imagenette/320px-v2", "validation", 128, limit=5)
    assert batches and all(squares.shape == (4, 128, 128, 3) and squares.dtype == np.uint8 for squares, _ in batches)
    every_label = np.concatenate([labels for _, labels in batches])
    assert every_label.dtype == np.int64 and ((every_label >= 0) & (every_label < 10)).all()
    assert images.shape == (5, 128, 128, 3) and labels.shape == (5,) and ((labels >= 0) & (labels < 10)).all()

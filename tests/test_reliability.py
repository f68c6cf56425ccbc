"""Reliability: a run killed with SIGKILL mid-epoch, during a checkpoint save, resumes to bit-identical
weights; hostile photos are colorized or rejected one by one without partial outputs or changed inputs; an
unwritable output folder or a full disk gives one clear line; `folder:` datasets skip what they cannot use."""

import errno
import json
import os
import signal
import warnings

import keras
import numpy as np
import pytest
from conftest import checkpoint_arrays
from PIL import Image

from kcolor import cli, cli_colorize
from kcolor.checkpoint import TrainingCheckpoint
from kcolor.data import DatasetError, SkippedImagesWarning, load_arrays
from kcolor.training import TrainConfig, build_gan


def test_run_killed_during_a_checkpoint_save_resumes_to_bit_identical_weights(tiny_runs, cli_runs):
    reference_dir, _ = tiny_runs["reference"]
    killed_dir, killed = tiny_runs["killed"]
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    # The kill came after the step-4 checkpoint folder was renamed into place, before state.json named it.
    at_kill = tiny_runs["killed_checkpoint"]
    state = json.loads((at_kill / "state.json").read_text())
    assert (state["epoch"], state["step"], state["global_step"]) == (0, 2, 2)
    leftovers = sorted(entry.name for entry in at_kill.iterdir())
    assert any(name.startswith(".tmp-") and name.endswith("state.json") for name in leftovers)
    assert any(name.startswith("step-000000004-") for name in leftovers)
    config = TrainConfig(**json.loads((killed_dir / "config.json").read_text())).resolved()
    restored = TrainingCheckpoint.restore(at_kill, build_gan(config))  # the surviving checkpoint loads
    assert restored.describe() == "epoch 1, step 2" and restored.data_position.to_json() == [0, 2]

    resumed = cli_runs["resumed"]  # `kcolor train --resume --out KILLED`: the saved options are reused
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert f"Resuming {killed_dir} from epoch 1, step 2 (global step 2)." in resumed.stdout

    expected, expected_state = checkpoint_arrays(reference_dir)
    actual, actual_state = checkpoint_arrays(killed_dir)
    assert (actual_state["global_step"], actual_state["epoch"]) == (expected_state["global_step"], 2) == (12, 2)
    assert actual.keys() == expected.keys() and len(expected) > 200
    different = [name for name in expected if not np.array_equal(expected[name], actual[name])]
    assert different == []  # bit-identical: weights, both Adam states, batch-norm statistics, dropout seeds
    # The per-epoch means logged in history.csv match too, the interrupted epoch's included: the same epochs and
    # columns, and the same values up to the rounding of a float32 mean of 6 steps, summed in another order (at
    # most about 6 roundings of 2**-24 relative; under pytest-xdist, with another worker training, 2 of 4 runs
    # logged one mean 2 float32 steps apart while every weight stayed bit-identical: cause not found).
    expected_rows, actual_rows = (
        [line.split(",") for line in (run / "history.csv").read_text().splitlines()] for run in (reference_dir, killed_dir)
    )
    assert actual_rows[0] == expected_rows[0] and [row[0] for row in actual_rows] == [row[0] for row in expected_rows]
    np.testing.assert_allclose(np.array([row[1:] for row in actual_rows[1:]], float),
                               np.array([row[1:] for row in expected_rows[1:]], float), rtol=8 * 2.0**-24, atol=0)
    generators = [keras.models.load_model(run / "generator.keras") for run in (reference_dir, killed_dir)]
    for weight, other in zip(*(generator.get_weights() for generator in generators)):
        np.testing.assert_array_equal(weight, other)
    checkpoint_dir = killed_dir / "checkpoint"
    assert sorted(entry.name for entry in checkpoint_dir.iterdir()) == ["state.json", actual_state["checkpoint"]]
    assert not list(killed_dir.rglob(".tmp-*"))


def test_hostile_photos_are_colorized_or_rejected_one_by_one(cli_runs):
    inputs, out_dir, result, expected = (cli_runs[key] for key in ("photos", "out_dir", "colorized", "expected"))
    assert result.returncode == 1  # something failed
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    for name, outcome in expected.items():
        output = out_dir / f"{name.rsplit('.', 1)[0]}_colorized.png"
        if isinstance(outcome, tuple):
            with Image.open(output) as image:
                assert (image.format, image.mode, image.size) == ("PNG", "RGB", outcome), name
        else:
            assert not output.exists()
            assert [line for line in errors if line.startswith(f"error: {inputs / name}: ") and outcome in line], name
    assert f"error: {cli_runs['missing']}: file not found" in errors
    assert any(line.startswith(f"error: {cli_runs['empty_folder']}: folder holds no images") for line in errors)
    rejected = [name for name, outcome in expected.items() if not isinstance(outcome, tuple)]
    colorized = len(expected) - len(rejected) + 1  # and example:chelsea
    assert len(errors) == len(rejected) + 2  # and the missing file and the empty folder
    assert f"{colorized} colorized, {len(errors)} failed" in result.stdout
    # Exactly the outputs, whole: no partial, zero-byte or temporary files; the inputs are untouched.
    assert len(list(out_dir.iterdir())) == colorized and all(path.stat().st_size > 0 for path in out_dir.iterdir())
    after = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in inputs.iterdir()}
    assert after == cli_runs["fingerprints"]


def test_exif_rotated_photos_keep_their_orientation(cli_runs):
    with Image.open(cli_runs["photos"] / "rotated.jpg") as photo:
        stored_width, stored_height = photo.size
    with Image.open(cli_runs["out_dir"] / "rotated_colorized.png") as output:
        assert output.size == (stored_height, stored_width) == (24, 40)  # displayed upright, as viewers show it
        assert "exif" not in output.info  # so no viewer rotates it a second time


def write_orange_photos(folder, *names):
    """Small RGB photos named `names` in `folder` (created); returns `{name: bytes}`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.new("RGB", (20, 12), (200, 120, 40)).save(folder / name)
    return {name: (folder / name).read_bytes() for name in names}


def test_an_unreadable_photo_is_rejected_and_the_batch_goes_on(tiny_run, tmp_path, monkeypatch, capsys):
    photos = tmp_path / "photos"
    write_orange_photos(photos, "denied.png", "fine.png")
    denied = photos / "denied.png"
    if os.geteuid() != 0:
        denied.chmod(0)
    else:  # root reads everything: make reading this one file fail as it would for a user
        import builtins

        import kcolor.data.images as images_module

        def guarded_open(path, *args, **kwargs):
            if os.fspath(path) == os.fspath(denied):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return builtins.open(path, *args, **kwargs)

        monkeypatch.setattr(images_module, "open", guarded_open, raising=False)
    out_dir = tmp_path / "out"
    try:
        status = cli.main(["colorize", str(photos), "--model", str(tiny_run[0]), "--out-dir", str(out_dir)])
    finally:
        denied.chmod(0o644)
    captured = capsys.readouterr()
    assert status == 1
    assert f"error: {denied}: permission denied" in captured.err.splitlines()
    assert sorted(path.name for path in out_dir.iterdir()) == ["fine_colorized.png"]


def test_an_output_folder_that_cannot_be_written_is_one_clear_line(tiny_run, tmp_path, monkeypatch, capsys):
    write_orange_photos(tmp_path, "photo.png")
    photo = tmp_path / "photo.png"
    model = str(tiny_run[0])
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert cli.main(["colorize", str(photo), "--model", model, "--out-dir", str(blocker / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"kcolor colorize: error: cannot create output folder {blocker / 'out'}: Not a directory"

    read_only = tmp_path / "read_only"
    read_only.mkdir()
    monkeypatch.setattr(cli_colorize.os, "access", lambda path, mode: False)  # as for a user on a read-only folder
    assert cli.main(["colorize", str(photo), "--model", model, "--out-dir", str(read_only)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"kcolor colorize: error: cannot write to output folder {read_only}: permission denied"
    assert list(read_only.iterdir()) == []


def test_a_full_disk_stops_the_batch_with_one_line_and_no_partial_file(tiny_run, tmp_path, monkeypatch, capsys):
    photos = tmp_path / "photos"
    before = write_orange_photos(photos, "a.png", "b.png")
    original_save = Image.Image.save

    def save_until_the_disk_is_full(image, target, *args, **kwargs):
        if "out" in str(target):
            with open(target, "wb") as file:
                file.write(b"\x89PNG\r\n\x1a\n half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original_save(image, target, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_until_the_disk_is_full)
    out_dir = tmp_path / "out"
    status = cli.main(["colorize", str(photos), "--model", str(tiny_run[0]), "--out-dir", str(out_dir)])
    error = capsys.readouterr().err.strip()
    assert status == 2 and "\n" not in error
    assert error == (
        f"kcolor colorize: error: cannot write {out_dir / 'a_colorized.png'}: No space left on device; stopping "
        "(free some space or choose another --out-dir)"
    )
    assert list(out_dir.iterdir()) == []
    assert {path.name: path.read_bytes() for path in photos.iterdir()} == before


def test_folder_datasets_skip_hostile_files_with_one_counted_warning(tmp_path, photos, write_test_photos):
    train = tmp_path / "data" / "train"
    write_test_photos(train)
    for index in range(3):
        Image.fromarray(photos[index]).save(train / f"colorful_{index}.png")
    (tmp_path / "data" / "validation").mkdir()
    Image.fromarray(photos[3]).save(tmp_path / "data" / "validation" / "colorful.png")
    fingerprints = {path.name: path.read_bytes() for path in train.iterdir()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images, _ = load_arrays(f"folder:{tmp_path / 'data'}", "train", image_size=16)
    skipped = [str(warning.message) for warning in caught if issubclass(warning.category, SkippedImagesWarning)]
    assert len(skipped) == 1 and "images skipped" in skipped[0] and "unreadable" in skipped[0]
    # The random-noise photos (odd size, CMYK, RGBA, palette, rotated) are colorful and kept, with the 3 crops.
    assert images.shape == (8, 16, 16, 3) and images.dtype == np.uint8
    assert {path.name: path.read_bytes() for path in train.iterdir()} == fingerprints
    (tmp_path / "no_images").mkdir()
    for folder, message in ((tmp_path / "no_images", "contains no image files"), (tmp_path / "nowhere", "no such folder")):
        with pytest.raises(DatasetError, match=message):
            load_arrays(f"folder:{folder}", "train", image_size=16)


def test_running_out_of_memory_on_one_photo_rejects_it_and_goes_on(tiny_run, tmp_path, monkeypatch, capsys):
    import importlib

    import tensorflow as tf

    colorize_module = importlib.import_module("kcolor.colorize")  # `kcolor.colorize` is also a function
    photos = tmp_path / "photos"
    write_orange_photos(photos, "huge.png", "small.png")
    colorize_photo = colorize_module.colorize_photo

    def colorize_or_run_out(generator, photo, **kwargs):
        if photo.shape[0] == 12 and not hasattr(colorize_or_run_out, "failed"):
            colorize_or_run_out.failed = True  # the first photo ("huge.png", sorted first)
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[1,9000,9000,3]")
        return colorize_photo(generator, photo, **kwargs)

    monkeypatch.setattr(colorize_module, "colorize_photo", colorize_or_run_out)
    out_dir = tmp_path / "out"
    assert cli.main(["colorize", str(photos), "--model", str(tiny_run[0]), "--out-dir", str(out_dir)]) == 1
    assert f"error: {photos / 'huge.png'}: out of memory while colorizing it" in capsys.readouterr().err
    assert sorted(path.name for path in out_dir.iterdir()) == ["small_colorized.png"]

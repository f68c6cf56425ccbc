import dataclasses
import sys
import types
from pathlib import Path

import pytest

import kcolor.tutorial
from kcolor.course import runs_folder
from kcolor.models import build_discriminator, build_generator
from kcolor.models.diagram import block_shapes, plot_architecture
from kcolor.tutorial import (
    CPU_MODE_MINUTES,
    CPU_MODE_SETTINGS,
    RUN_KINDS,
    course_config,
    find_or_train,
    judge_settings,
    resolve_mode,
    training_time,
)


def test_course_configs_for_smoke_and_full_mode(tmp_path):
    smoke = course_config("gan", smoke=True, course_dir=tmp_path)
    assert smoke.dataset == "sample" and smoke.width_multiplier < 0.5 and not smoke.l1_only
    assert course_config("gan", course_dir=tmp_path, mode="smoke") == smoke
    full = course_config("l1", smoke=False, course_dir=tmp_path)
    assert (full.dataset, full.preset, full.l1_only) == ("cifar10", "nazeri-cifar", True)
    assert full.out == str(tmp_path / "l1")
    assert course_config("l1", course_dir=tmp_path, mode="full") == full
    with pytest.raises(ValueError, match="kind"):
        course_config("vae")
    with pytest.raises(ValueError, match="mode must be one of"):
        course_config("gan", mode="gpu")


def test_cpu_mode_is_a_narrow_short_cifar10_run_and_the_photo_runs_stay_full(tmp_path):
    for kind in ("gan", "l1"):
        config = course_config(kind, course_dir=tmp_path, mode="cpu")
        assert (config.dataset, config.preset, config.l1_only, config.out) == (
            "cifar10", "nazeri-cifar", kind == "l1", str(tmp_path / kind))  # fmt: skip
        assert {name: getattr(config, name) for name in CPU_MODE_SETTINGS} == CPU_MODE_SETTINGS
        resolved = config.resolved()
        # 1,200 steps: enough for the GAN's colors to tell a judge more than the U-Net's (docs/RESULTS.md)
        assert resolved.width_multiplier < 1 and resolved.epochs * resolved.steps_per_epoch == 1200
    for kind in ("photo-gan", "photo-l1"):
        assert course_config(kind, course_dir=tmp_path, mode="cpu") == course_config(kind, False, tmp_path)


def test_the_mode_comes_from_mode_then_smoke_then_the_environment(monkeypatch):
    assert resolve_mode("cpu", smoke=True) == "cpu"
    assert (resolve_mode(smoke=True), resolve_mode(smoke=False)) == ("smoke", "full")
    monkeypatch.setenv("KCOLOR_MODE", "cpu")
    assert resolve_mode() == "cpu"
    monkeypatch.delenv("KCOLOR_MODE")
    monkeypatch.setenv("KCOLOR_SMOKE", "1")
    assert resolve_mode() == "smoke"
    monkeypatch.setenv("KCOLOR_SMOKE", "0")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("kcolor.devices.has_gpu", lambda: False)
    assert resolve_mode() == "cpu"  # never full mode on a CPU unless asked for


def test_the_judge_per_mode(tmp_path):
    full, cpu = dict(image_size=32, epochs=12, width=16, view="chroma"), dict(split="train[:10000]", epochs=3)
    assert judge_settings(course_dir=tmp_path, mode="full") == ("cifar10", full)
    assert judge_settings(course_dir=tmp_path, mode="cpu") == ("cifar10", {**full, **cpu})
    smoke_dataset, smoke_options = judge_settings(course_dir=tmp_path, mode="smoke")
    assert smoke_dataset == f"folder:{tmp_path / 'judge_photos'}" and smoke_options["view"] == "chroma"


def test_training_times_name_the_hardware():
    assert training_time("gan", "smoke") == "under a minute"
    assert training_time("l1", "cpu") == f"about {CPU_MODE_MINUTES['l1']} min on a 2-core CPU"
    assert training_time("gan", "full").endswith("on a Colab T4 (estimate)")
    on_a_cpu = training_time("gan", "full", gpu=False)
    assert "hours" in on_a_cpu and "2-core CPU" in on_a_cpu
    for kind in RUN_KINDS:
        assert training_time(kind, "cpu", gpu=False) != training_time(kind, "full") or kind in ("gan", "l1")
        assert "hours" in training_time(kind, "full", gpu=False)


@pytest.fixture
def recorded_training(monkeypatch):
    """`kcolor.tutorial.train` replaced by a recorder: the configurations find_or_train would train."""
    trained = []
    monkeypatch.setattr(kcolor.tutorial, "train", trained.append)
    return trained


def test_find_or_train_says_what_it_trains_how_long_and_shows_progress(tmp_path, capsys, recorded_training):
    assert find_or_train("gan", course_dir=tmp_path, mode="cpu", gpu=False) == tmp_path / "gan"
    (config,) = recorded_training
    assert config == dataclasses.replace(course_config("gan", course_dir=tmp_path, mode="cpu"), verbose=1, resume=True)
    printed = capsys.readouterr().out
    assert "training one now, in cpu mode" in printed
    assert f"about {CPU_MODE_MINUTES['gan']} min on a 2-core CPU" in printed
    assert "Warning" not in printed

    (tmp_path / "l1" / "checkpoint").mkdir(parents=True)  # a run cut off by a disconnect: it resumes
    find_or_train("l1", course_dir=tmp_path, mode="full", gpu=True)
    assert recorded_training[-1].resume and recorded_training[-1].verbose == 1
    printed = capsys.readouterr().out
    assert "continuing from its last checkpoint, in full mode" in printed and "Colab T4 (estimate)" in printed


def test_full_and_photo_runs_never_start_silently_on_a_cpu(tmp_path, capsys, recorded_training):
    with pytest.raises(RuntimeError, match='KCOLOR_MODE = "full"') as raised:
        find_or_train("photo-gan", course_dir=tmp_path, mode="cpu", gpu=False)
    assert "hours" in str(raised.value) and recorded_training == []

    for kind in ("gan", "photo-l1"):  # full mode was chosen by hand: it warns with the time, then trains
        find_or_train(kind, course_dir=tmp_path, mode="full", gpu=False)
        printed = capsys.readouterr().out
        assert printed.startswith(f"Warning: no GPU, and the {kind} run") and "hours or more on a 2-core CPU" in printed
        assert recorded_training[-1].out == str(tmp_path / kind)

    find_or_train("photo-gan", course_dir=tmp_path, mode="full", gpu=True)
    assert "Warning" not in capsys.readouterr().out


def test_find_or_train_trains_once_then_a_new_runtime_finds_the_run_on_drive(monkeypatch, tmp_path, capsys):
    """Notebook 02 on Colab trains into Drive; notebook 03, in a runtime of its own, finds the run there."""
    cloud = tmp_path / "cloud"

    def mount(mount_point, **options):
        Path(mount_point).mkdir(parents=True)
        cloud.mkdir(exist_ok=True)
        (Path(mount_point) / "MyDrive").symlink_to(cloud, target_is_directory=True)

    colab, drive = types.ModuleType("google.colab"), types.ModuleType("google.colab.drive")
    drive.mount, colab.drive = mount, drive
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    monkeypatch.chdir(tmp_path)

    course_dir = runs_folder("smoke", mount=tmp_path / "runtime-02")
    run = find_or_train("l1", smoke=True, course_dir=course_dir)  # the older keyword still works
    assert (run / "generator.keras").is_file()
    printed = capsys.readouterr().out
    assert "training one now, in smoke mode" in printed and "under a minute" in printed
    stamp = (run / "generator.keras").stat().st_mtime_ns

    course_dir = runs_folder("smoke", mount=tmp_path / "runtime-03")
    assert find_or_train("l1", course_dir=course_dir, mode="smoke") == course_dir / "l1"
    assert "Using the l1 run" in capsys.readouterr().out
    assert (cloud / "kcolor-course" / "smoke" / "l1" / "generator.keras").stat().st_mtime_ns == stamp


def test_architecture_diagram_follows_the_unet():
    generator = build_generator("nazeri-cifar", width_multiplier=0.125, image_size=32)
    heights = [height for _, height, _ in block_shapes(generator)]
    assert heights == [32, 16, 8, 4, 2, 4, 8, 16, 32, 32]
    figure = plot_architecture(generator)
    assert len(figure.axes[0].patches) == len(heights)
    discriminator = build_discriminator("nazeri-cifar", width_multiplier=0.125, image_size=32)
    assert [h for _, h, _ in block_shapes(discriminator)] == [16, 8, 4, 4, 4]
    with pytest.raises(ValueError, match="fixed image_size"):
        block_shapes(build_generator("nazeri-cifar", width_multiplier=0.125))

import pytest

from kcolor.models import build_discriminator, build_generator
from kcolor.models.diagram import block_shapes, plot_architecture
from kcolor.tutorial import course_config, find_or_train


def test_course_configs_for_smoke_and_full_mode(tmp_path):
    smoke = course_config("gan", smoke=True, course_dir=tmp_path)
    assert smoke.dataset == "sample" and smoke.width_multiplier < 0.5 and not smoke.l1_only
    full = course_config("l1", smoke=False, course_dir=tmp_path)
    assert (full.dataset, full.preset, full.l1_only) == ("cifar10", "nazeri-cifar", True)
    assert full.out == str(tmp_path / "l1")
    with pytest.raises(ValueError, match="kind"):
        course_config("vae")


def test_find_or_train_trains_once_then_reuses(tmp_path, capsys):
    run = find_or_train("l1", smoke=True, course_dir=tmp_path)
    assert (run / "generator.keras").is_file()
    assert "training one now" in capsys.readouterr().out
    stamp = (run / "generator.keras").stat().st_mtime_ns
    assert find_or_train("l1", smoke=True, course_dir=tmp_path) == run
    assert "Using the l1 run" in capsys.readouterr().out
    assert (run / "generator.keras").stat().st_mtime_ns == stamp


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

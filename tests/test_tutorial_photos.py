"""The course's photo runs and its judge: full-mode settings, and the offline smoke-mode versions.

The smoke photo run itself trains in notebook 04 (its `photo-train` cell, `find_or_train("photo-gan")`) on every
first run of the suite in a checkout, as CI's; its full-mode configuration trains in test_course_full_mode.py.
"""

from kcolor.data import class_names
from kcolor.models import get_preset
from kcolor.tutorial import RUN_KINDS, course_config, judge_settings


def test_the_photo_runs_train_the_shipped_recipe_at_full_width_on_imagenette(tmp_path):
    assert {"photo-gan", "photo-l1"} <= set(RUN_KINDS)
    gan = course_config("photo-gan", smoke=False, course_dir=tmp_path).resolved()
    l1 = course_config("photo-l1", smoke=False, course_dir=tmp_path).resolved()
    assert (gan.dataset, gan.preset, gan.image_size, gan.width_multiplier) == ("imagenette/320px-v2", "photo-128", 128, 1.0)
    assert gan.l1_weight == get_preset("photo-128").l1_weight and not gan.l1_only and l1.l1_only
    assert gan.out == str(tmp_path / "photo-gan")


def test_the_smoke_judge_data_is_one_class_folder_per_sample_photo(tmp_path):
    dataset, options = judge_settings(smoke=True, course_dir=tmp_path)
    assert dataset.startswith("folder:") and options["image_size"] == 32
    names = class_names(dataset)
    assert "astronaut" in names and "chelsea" in names and len(names) >= 6
    assert judge_settings(smoke=False)[0] == "cifar10"

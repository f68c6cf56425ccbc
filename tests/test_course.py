"""Tests of `kcolor.course`: the course's three modes, and the runs folder on a checkout and on Colab's Drive.

Colab is played by stand-in `google.colab` and `google.colab.drive` modules. Their `mount` links `MyDrive` under
the mount point to a folder that outlives it, as Drive outlives a Colab runtime: a "new runtime" is a fresh mount
point, mounted again.
"""

import sys
import types
from pathlib import Path

import pytest

from kcolor.course import DRIVE_FOLDER, MODES, choose_mode, project_root, runs_folder

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "environ, gpu, expected",
    [
        ({}, False, "cpu"),
        ({}, True, "full"),
        ({"CI": "true"}, True, "smoke"),
        ({"KCOLOR_SMOKE": "1"}, False, "smoke"),
        ({"KCOLOR_SMOKE": "0", "CI": "true"}, False, "cpu"),
        ({"KCOLOR_SMOKE": "0", "CI": "true"}, True, "full"),
        ({"KCOLOR_MODE": "cpu"}, True, "cpu"),
        ({"KCOLOR_MODE": " Smoke "}, True, "smoke"),
        ({"KCOLOR_MODE": "full", "CI": "true"}, True, "full"),
        ({"KCOLOR_MODE": ""}, False, "cpu"),
    ],
)
def test_the_mode_follows_the_environment_and_the_machine(environ, gpu, expected, capsys):
    assert choose_mode(environ=environ, gpu=gpu) == expected
    assert capsys.readouterr().out.startswith(f"Mode: {expected} (")


def test_the_notebook_override_wins_over_the_environment():
    environ = {"KCOLOR_MODE": "full", "KCOLOR_SMOKE": "1"}
    assert choose_mode("cpu", environ=environ, gpu=True, verbose=False) == "cpu"
    assert choose_mode("SMOKE", environ={}, gpu=True, verbose=False) == "smoke"
    assert choose_mode(None, environ=environ, gpu=True, verbose=False) == "full"


@pytest.mark.parametrize("requested, environ", [("gpu", {}), ("", {}), (None, {"KCOLOR_MODE": "fast"})])
def test_an_unknown_mode_is_a_value_error_that_lists_the_modes(requested, environ):
    with pytest.raises(ValueError, match="KCOLOR_MODE must be one of") as raised:
        choose_mode(requested, environ=environ, gpu=False)
    assert all(mode in str(raised.value) for mode in MODES)


def test_full_mode_without_a_gpu_only_when_asked_and_with_a_warning(capsys):
    for environ in ({}, {"CI": "true"}, {"KCOLOR_SMOKE": "0"}, {"KCOLOR_MODE": "cpu"}):
        assert choose_mode(environ=environ, gpu=False, verbose=False) != "full"
    assert capsys.readouterr().out == ""
    assert choose_mode("full", environ={}, gpu=False, verbose=False) == "full"
    warning = capsys.readouterr().out
    assert warning.startswith("Warning: full mode without a GPU") and 'KCOLOR_MODE = "cpu"' in warning
    assert choose_mode("full", environ={}, gpu=True, verbose=False) == "full"
    assert capsys.readouterr().out == ""


def test_the_automatic_choice_asks_the_machine_for_a_gpu(monkeypatch):
    import kcolor.devices

    monkeypatch.setattr(kcolor.devices, "has_gpu", lambda: True)
    assert choose_mode(environ={}, verbose=False) == "full"
    monkeypatch.setattr(kcolor.devices, "has_gpu", lambda: False)
    assert choose_mode(environ={}, verbose=False) == "cpu"


def test_runs_folder_elsewhere_is_in_the_checkout_or_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.chdir(ROOT / "notebooks")
    assert project_root() == ROOT
    monkeypatch.chdir(tmp_path)
    assert project_root() == tmp_path
    assert runs_folder("cpu") == tmp_path / "runs" / "course-cpu" and (tmp_path / "runs" / "course-cpu").is_dir()
    assert runs_folder("smoke") == tmp_path / "runs" / "course-smoke"
    assert runs_folder("full") == tmp_path / "runs" / "course"
    with pytest.raises(ValueError, match="mode must be one of"):
        runs_folder("gpu")


class StandInColab:
    """Installs stand-in `google.colab` and `google.colab.drive` modules; Drive's files live in `cloud`."""

    def __init__(self, monkeypatch, cloud, decline=False):
        self.cloud, self.decline, self.mounts = cloud, decline, []
        colab, drive = types.ModuleType("google.colab"), types.ModuleType("google.colab.drive")
        drive.mount, colab.drive = self.mount, drive
        monkeypatch.setitem(sys.modules, "google.colab", colab)
        monkeypatch.setitem(sys.modules, "google.colab.drive", drive)

    def mount(self, mount_point, **options):
        self.mounts.append(mount_point)
        if self.decline:
            raise ValueError("mount failed")  # what Colab's drive.mount raises when the student declines
        Path(mount_point).mkdir(parents=True, exist_ok=True)
        self.cloud.mkdir(exist_ok=True)
        (Path(mount_point) / "MyDrive").symlink_to(self.cloud, target_is_directory=True)


def test_runs_folder_on_colab_mounts_drive_and_a_new_runtime_finds_the_runs(monkeypatch, tmp_path, capsys):
    colab = StandInColab(monkeypatch, tmp_path / "cloud")
    monkeypatch.chdir(tmp_path)
    mount = tmp_path / "runtime-1" / "drive"
    folder = runs_folder("cpu", mount=mount)
    assert colab.mounts == [str(mount)]
    assert folder == mount / "MyDrive" / DRIVE_FOLDER / "cpu" and folder.is_dir()
    (folder / "gan").mkdir()
    (folder / "gan" / "generator.keras").write_text("notebook 02's run")
    assert runs_folder("cpu", mount=mount) == folder and len(colab.mounts) == 1  # mounted already: not again

    monkeypatch.setenv("KCOLOR_DRIVE_MOUNT", str(tmp_path / "runtime-2" / "drive"))  # notebook 03: a new runtime
    again = runs_folder("cpu")
    assert colab.mounts[-1] == str(tmp_path / "runtime-2" / "drive")
    assert again == tmp_path / "runtime-2" / "drive" / "MyDrive" / DRIVE_FOLDER / "cpu"
    assert (again / "gan" / "generator.keras").read_text() == "notebook 02's run"
    assert runs_folder("full") == tmp_path / "runtime-2" / "drive" / "MyDrive" / DRIVE_FOLDER / "full"
    assert "Warning" not in capsys.readouterr().out


def test_runs_folder_on_colab_without_drive_warns_and_keeps_the_runs_in_the_runtime(monkeypatch, tmp_path, capsys):
    StandInColab(monkeypatch, tmp_path / "cloud", decline=True)
    monkeypatch.chdir(tmp_path)
    folder = runs_folder("cpu", mount=tmp_path / "drive")
    assert folder == tmp_path / "runs" / "course-cpu" and folder.is_dir()
    printed = capsys.readouterr().out
    assert "Could not mount Google Drive" in printed and "Warning: Google Drive is not mounted" in printed

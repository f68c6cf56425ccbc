"""Smoke test of the benchmark harness: it runs end to end with tiny sizes and writes the JSON it promises.

No timing is asserted (the harness is the place for numbers); only that every section produced its rows with
the expected keys, the FLOP count's bookkeeping, and that an A/B run measures a git revision from a worktree of its
own (in a clone of this checkout's history) and removes it afterwards.
"""

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import finish, skip_if_simulation_breaks_tensorflow_bfloat16, start_process, stop, subprocess_env

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # `benchmarks` lives beside `kcolor`, uninstalled
from benchmarks import flops  # noqa: E402
from benchmarks.run import main  # noqa: E402

TINY = [
    "--in-process", "--sections", "peak,flops,train,upsampling,pipeline,colorize,fit",
    "--configs", "nazeri-cifar:0.0625:4", "--xla", "off", "--precisions", "float32",
    "--repeats", "2", "--steps", "1", "--warmup", "0", "--matmul-size", "128",
    "--pipeline-sources", "npz,folder,tfds", "--pipeline-batches", "1", "--pipeline-drain", "1",
    "--pipeline-images", "8", "--npz", "", "--photos", "", "--pipeline-configs", "nazeri-cifar:0.0625:4",
    "--targets", "nazeri-cifar:0.0625:4", "--tfds-examples", "0", "--pipeline-rounds", "1",
    "--colorize-megapixels", "0.02", "--colorize-width", "0.0625", "--colorize-repeats", "1", "--fit-steps", "1",
]  # fmt: skip
RATE_KEYS = {"median", "min", "max", "iqr", "values"}


def start_harness(folder):
    """`python -m benchmarks` with `TINY` in a fresh process, with TensorFlow; returns the process."""
    env = subprocess_env("tensorflow", {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY),
                                                                                   os.environ.get("PYTHONPATH")]))})
    return start_process([sys.executable, "-m", "benchmarks", *TINY, "--json", str(folder / "results.json")],
                         log_to=folder / "harness", env=env)


@pytest.fixture
def harness_run(tmp_path):
    """The JSON and printed output of the harness's run (`start_harness`)."""
    # The peak section multiplies bfloat16 matrices, which the AVX2 simulation cannot run (conftest.py).
    skip_if_simulation_breaks_tensorflow_bfloat16()
    process = start_harness(tmp_path)
    try:
        result = finish(process, timeout=900)
    finally:
        stop([process])
    assert result.returncode == 0, f"the harness failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    return json.loads((tmp_path / "results.json").read_text()), result.stdout


def test_harness_runs_and_writes_json(harness_run):
    results, printed = harness_run
    assert "| reference |" in printed and "vs reference" in printed

    assert {"command", "machine", "settings", "versions", "peak", "flops", "train", "upsampling", "pipeline",
            "colorize", "fit"} <= set(results)
    assert {"cpu", "logical_cpus", "memory_gib", "date"} <= set(results["machine"])
    assert {row["dtype"] for row in results["peak"]} == {"float32", "bfloat16"}

    train = {row["implementation"]: row for row in results["train"]}
    assert set(train) == {"reference", "kcolor"}
    for row in train.values():
        assert set(row["images_per_second"]) == RATE_KEYS and row["images_per_second"]["median"] > 0
        assert {"flops_per_image", "gflops_per_second", "utilisation", "ratio_to_reference", "compile_s",
                "step_seconds", "precision", "xla", "batch", "width"} <= set(row)
        assert row["finite"]
    assert train["reference"]["ratio_to_reference"] == 1.0
    assert train["kcolor"]["flops_per_image"] > train["reference"]["flops_per_image"]

    (upsampling,) = results["upsampling"]
    assert upsampling["layers"] == 4 and upsampling["native_s"] > 0 and upsampling["subpixel_s"] > 0
    # The sub-pixel rewrite computes the same function, only each output's sum in another order: at most 2 x 2 taps
    # x 64 channels = 256 products (the sub-pixel kernel's zero taps add exactly). Two orders differ by at most
    # 2 * 255 * 2^-24 * sum|products| (the worst case, on any CPU), and for these random inputs sum|products| is
    # about 0.16 * sqrt(256) = 2.6 times the largest output: 8e-5 relative to it. (Measured: 5e-7.)
    assert upsampling["max_relative_difference"] < 1e-4

    assert "error" not in str(results["pipeline"])
    assert sorted((row["source"], row["path"]) for row in results["pipeline"]) == [
        (source, path) for source in ("folder", "npz", "tfds") for path in ("load_dataset", "train")]
    for row in results["pipeline"]:
        assert row["images_per_second"]["median"] > 0 and row["pipeline_to_step"] > 0
        assert row["images_per_cpu_second"]["median"] > 0 and row["first_pass_images_per_cpu_second"] > 0
        assert row["pipeline_to_target"] > 0 and row["version"] == "working tree"
    (target,) = results["targets"]
    assert target["l1_step_flops"] < target["gan_step_flops"]
    assert target["fastest_images_per_second"] == pytest.approx(65e12 * 0.3 / target["l1_step_flops"])
    assert "What a GPU consumes" in printed
    (colorize,) = results["colorize"]
    assert colorize["seconds"]["median"] > 0 and colorize["peak_rss_mib"] >= colorize["baseline_rss_mib"] > 0
    (fit,) = results["fit"]
    assert fit["step_traces"] >= 1 and fit["images_per_second"]["median"] > 0


def test_flop_count_bookkeeping():
    counted = flops.count("nazeri-cifar", 1.0)
    # The first encoder convolution: 32 x 32 outputs x 4 x 4 taps x 1 input x 64 output channels.
    generator, _ = flops.build_fixed("nazeri-cifar", 1.0, 32)
    assert flops.conv_macs(generator.get_layer("encoder_0_conv")) == 32 * 32 * 16 * 64
    # A transposed convolution counts input pixels: decoder_0 maps 2 x 2 x 512 to 4 x 4 x 512.
    assert flops.conv_macs(generator.get_layer("decoder_0_conv")) == 2 * 2 * 16 * 512 * 512
    # kcolor's step does one discriminator forward more than the tutorial's; sharing G(z) saved one G forward.
    assert counted["kcolor_step_flops"] - counted["reference_step_flops"] == counted["discriminator_forward_flops"]
    assert counted["kcolor_unshared_step_flops"] - counted["kcolor_step_flops"] == counted["generator_forward_flops"]
    assert counted["generator_forward_flops"] / 1e9 == pytest.approx(0.674, abs=0.001)


def test_quality_holdout_train_and_score(tmp_path, capsys):
    """`benchmarks.quality`: a selection split that excludes the validation images, a run continued from a copy."""
    import numpy as np

    from benchmarks import quality
    from kcolor.data import load_arrays

    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "all.npz", images=images, labels=np.arange(40))
    quality.main(["holdout", "--data", f"npz:{tmp_path / 'all.npz'}", "--out", str(tmp_path / "dev.npz")])
    with np.load(tmp_path / "dev.npz") as dev:
        assert dev["labels"].tolist() == list(range(36))  # all but the original validation split (last 10 %)
    data = f"npz:{tmp_path / 'dev.npz'}"
    assert load_arrays(data, "validation", 32)[0].shape[0] == 3  # the selection split: the last 10 % of dev.npz
    tiny = ["--set", "width_multiplier=0.125", "--set", "batch_size=8", "--set", "jit_compile=false"]
    quality.main(["train", "--data", data, "--epochs", "1", "--out", str(tmp_path / "base"), *tiny])
    quality.main(["train", "--data", data, "--epochs", "2", "--out", str(tmp_path / "more"), "--from",
                  str(tmp_path / "base"), *tiny])
    assert len((tmp_path / "base" / "history.csv").read_text().splitlines()) == 2
    assert len((tmp_path / "more" / "history.csv").read_text().splitlines()) == 3  # epoch 0 copied, epoch 1 trained
    capsys.readouterr()
    report = quality.score(data, [str(tmp_path / "base"), str(tmp_path / "more" / "generator.keras")])
    assert report.rows == ["gray", "base", "generator.keras", "ground truth"]
    assert "| gray |" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="TrainConfig field"):
        quality.parse_settings(["lambda=3"])
    assert quality.parse_settings(["l1_weight=300", "mixed_precision=bfloat16", "l1_only=true"]) == {
        "l1_weight": 300, "mixed_precision": "bfloat16", "l1_only": True}


@pytest.fixture
def git_clone(tmp_path):
    """A clone of this checkout's history (sharing its objects), so that A/B runs add and remove their worktrees
    there and never in the repository under test."""
    import subprocess

    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    cloned = subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(REPOSITORY), str(clone)],
                            capture_output=True, text=True)  # fmt: skip
    if cloned.returncode != 0:
        pytest.skip(f"could not clone the checkout: {cloned.stderr.strip()}")
    return clone


def _worktrees(repository):
    import subprocess

    listing = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=repository, capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    return [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]


def test_pipeline_ab_against_a_git_revision(tmp_path, git_clone):
    """`--pipeline-revision`: every pipeline is also built from the kcolor of a git revision, in its own worktree."""
    path = tmp_path / "ab.json"
    arguments = ["--in-process", "--sections", "pipeline", "--pipeline-sources", "npz", "--pipeline-paths",
                 "load_dataset", "--pipeline-configs", "nazeri-cifar:0.0625:4", "--targets", "nazeri-cifar:0.0625:4",
                 "--pipeline-images", "8", "--pipeline-batches", "1", "--pipeline-drain", "1", "--repeats", "2",
                 "--npz", "", "--photos", "", "--tfds-examples", "0", "--pipeline-rounds", "1",
                 "--pipeline-revision", "HEAD", "--git-repository", str(git_clone), "--json", str(path)]  # fmt: skip
    assert main(arguments) == 0
    rows = {row["version"]: row for row in json.loads(path.read_text())["pipeline"]}
    assert set(rows) == {"working tree", "HEAD"}
    assert rows["working tree"]["revision"] == "HEAD" and rows["working tree"]["cpu_vs_revision"] > 0
    import kcolor.data

    assert Path(kcolor.data.__file__).resolve().parent.parent.parent == REPOSITORY  # the working tree's, always


def test_train_ab_runs_the_revision_in_a_worktree_and_removes_it(tmp_path, git_clone, monkeypatch):
    """`--steps-revision`: the revision's kcolor is checked out in a temporary git worktree and timed there by a
    worker process of its own; both sides give rows, and the worktree is gone afterwards."""
    import tempfile

    scratch = tmp_path / "scratch"  # where the worktree's temporary folder goes
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "ab.json"
    arguments = ["--in-process", "--sections", "train", "--configs", "nazeri-cifar:0.0625:4", "--xla", "off",
                 "--precisions", "float32", "--repeats", "2", "--steps", "1", "--warmup", "0", "--no-reference",
                 "--steps-revision", "HEAD", "--git-repository", str(git_clone), "--ab-rounds", "1",
                 "--json", str(path)]  # fmt: skip
    assert main(arguments) == 0
    results = json.loads(path.read_text())
    rows = {row["implementation"]: row for row in results["train"]}
    assert set(rows) == {"kcolor", "kcolor@HEAD"}
    for row in rows.values():
        assert row["finite"] and row["images_per_second"]["median"] > 0 and row["rounds"] == 1
    assert rows["kcolor@HEAD"]["steps_revision"] == "HEAD" and rows["kcolor@HEAD"]["flops_per_image"] is None
    assert len(results["revisions"]["HEAD"]) == 40
    assert _worktrees(git_clone) == [str(git_clone)]  # the worktree was removed ...
    assert list(scratch.iterdir()) == []  # ... and its folder deleted


def test_the_train_path_of_a_revision_before_fit_input_reads_through_keras_adapter(git_clone):
    """An A/B against a kcolor from before `kcolor.training_data.fit_input` measures the train path as `fit` read
    it then (Keras's `PyDataset` adapter), and the working tree's through `fit_input`."""
    import subprocess

    from benchmarks.ab import pipeline_ab

    before = "bee6efd"  # the last commit before fit_input
    if subprocess.run(["git", "cat-file", "-e", before], cwd=git_clone, capture_output=True).returncode != 0:
        pytest.skip(f"the checkout does not hold commit {before}")
    task = {"kind": "pipeline", "shapes": [["nazeri-cifar", 4]], "sources": ["sample"], "paths": ["train"],
            "images": 8, "batches": 1, "drain": 1, "repeats": 1, "rounds": 1, "tfds_examples": 0}  # fmt: skip
    _, rows = pipeline_ab(task, before, "tensorflow", repository=git_clone, in_process=True)
    kinds = {row["version"]: row["pipeline"] for row in rows}  # (the reader checks the batch shape)
    assert kinds == {"working tree": "TrainingStream, kcolor's tf.data view",
                     before: "TrainingStream, Keras tf.data adapter"}

"""Smoke test of the benchmark harness: it runs end to end with tiny sizes and writes the JSON it promises.

No timing is asserted (the harness is the place for numbers); only that every section produced its rows with
the expected keys, and the FLOP count's bookkeeping.
"""

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import (
    JOBS,
    finish,
    simulation_breaks_tensorflow_bfloat16,
    skip_if_simulation_breaks_tensorflow_bfloat16,
    start_process,
    subprocess_env,
    uses_fixture,
)

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


def start_harness(folder, users=()):
    """`python -m benchmarks` with `TINY` in a fresh process, with TensorFlow (a background job: tests/conftest.py)."""
    env = subprocess_env("tensorflow", {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY),
                                                                                   os.environ.get("PYTHONPATH")]))})
    process = start_process([sys.executable, "-m", "benchmarks", *TINY, "--json", str(folder / "results.json")],
                            log_to=folder / "harness", env=env)
    return (folder, process), [process]


# The peak section multiplies bfloat16 matrices, which the AVX2 simulation cannot run (conftest.py).
JOBS.register(
    "benchmark_harness", start_harness,
    lambda item: uses_fixture("harness_run")(item) and not simulation_breaks_tensorflow_bfloat16("tensorflow"),
    seconds=29,
)  # fmt: skip


@pytest.fixture
def harness_run():
    """The JSON and printed output of the harness's run (`start_harness`)."""
    skip_if_simulation_breaks_tensorflow_bfloat16()
    folder, process = JOBS.get("benchmark_harness")
    result = finish(process, timeout=900)
    assert result.returncode == 0, f"the harness failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    return json.loads((folder / "results.json").read_text()), result.stdout


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


def test_pipeline_ab_against_a_git_revision(tmp_path):
    """`--pipeline-revision`: every pipeline is also built from the kcolor of a git revision, in the same process."""
    import subprocess

    repository = Path(__file__).resolve().parent.parent
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    path = tmp_path / "ab.json"
    arguments = ["--in-process", "--sections", "pipeline", "--pipeline-sources", "npz", "--pipeline-paths",
                 "load_dataset", "--pipeline-configs", "nazeri-cifar:0.0625:4", "--targets", "nazeri-cifar:0.0625:4",
                 "--pipeline-images", "8", "--pipeline-batches", "1", "--pipeline-drain", "1", "--repeats", "2",
                 "--npz", "", "--photos", "", "--tfds-examples", "0", "--pipeline-rounds", "1",
                 "--pipeline-revision", "HEAD", "--json", str(path)]  # fmt: skip
    assert main(arguments) == 0
    rows = {row["version"]: row for row in json.loads(path.read_text())["pipeline"]}
    assert set(rows) == {"working tree", "HEAD"}
    assert rows["working tree"]["revision"] == "HEAD" and rows["working tree"]["cpu_vs_revision"] > 0
    import kcolor.data

    assert Path(kcolor.data.__file__).resolve().parent.parent.parent == repository  # the working tree again


def test_the_train_path_of_a_revision_before_fit_input_reads_through_keras_adapter(tmp_path):
    """An A/B against a kcolor from before `kcolor.training_data.fit_input` measures the train path as `fit` read
    it then (Keras's `PyDataset` adapter), and the working tree's through `fit_input`."""
    import subprocess

    from benchmarks.pipeline import KcolorVersion, Reader, revision_root

    repository = Path(__file__).resolve().parent.parent
    before = "bee6efd"  # the last commit before fit_input
    if subprocess.run(["git", "cat-file", "-e", before], cwd=repository, capture_output=True).returncode != 0:
        pytest.skip(f"the checkout does not hold commit {before}")
    kinds = {}
    for version in (KcolorVersion("working tree"), KcolorVersion(before, revision_root(before, tmp_path))):
        reader = Reader(version, "sample", "train", "sample", True, 16, 4, 8, None, 1)
        reader.read(1)  # (it checks the batch shape)
        reader.close()
        kinds[version.label] = reader.kind
    assert kinds == {"working tree": "TrainingStream, kcolor's tf.data view",
                     before: "TrainingStream, Keras tf.data adapter"}

"""Numbers derived from a run's rows: ratios to the reference, utilisation, pipelines against steps and GPUs.

What each derived number means: benchmarks/README.md#reading-the-results.
"""


def median_rate(rate):
    """The median of a `summarize` dict (None for anything else)."""
    return rate["median"] if isinstance(rate, dict) else None


def add_derived(results):
    """Adds the derived numbers to a run's rows, in place.

    Train rows get `ratio_to_reference` (images/s over the reference's of the same preset, width, batch and size),
    `peak_gflops_per_second` and `utilisation` (against the `peak` rows of their dtype). Pipeline rows get
    `pipeline_to_step` (against the fastest kcolor step of their size and batch), `pipeline_to_target` and its
    CPU-second and first-pass variants (against the `targets` rows), and the working tree's row of an A/B run
    `revision`, `wall_vs_revision` and `cpu_vs_revision`.

    Args:
        results: the run's results dict (`benchmarks.run.main` builds it; error rows are skipped).

    Returns:
        `results`.

    Example:

    ```python
    add_derived(json.loads(Path("benchmarks/results/cpu-full.json").read_text()))
    ```
    """
    train = [row for row in results.get("train", []) if "error" not in row]
    peaks = {}
    for row in results.get("peak", []):
        if "error" not in row:
            peaks[row["dtype"]] = max(peaks.get(row["dtype"], 0.0), median_rate(row["gflops_per_second"]))
    references = {
        (row["preset"], row["width"], row["batch"], row["image_size"]): median_rate(row["images_per_second"])
        for row in train if row["implementation"] == "reference"
    }
    for row in train:
        key = (row["preset"], row["width"], row["batch"], row["image_size"])
        reference = references.get(key)
        row["ratio_to_reference"] = median_rate(row["images_per_second"]) / reference if reference else None
        dtype = "bfloat16" if "bfloat16" in row["precision"] else "float32"
        peak = peaks.get(dtype)
        row["peak_gflops_per_second"] = peak
        row["utilisation"] = row["gflops_per_second"] / peak if peak and row["gflops_per_second"] else None
    fastest = {}
    for row in train:
        if row["implementation"] == "kcolor":
            key = (row["image_size"], row["batch"])
            if median_rate(row["images_per_second"]) > fastest.get(key, (0.0, None))[0]:
                fastest[key] = (median_rate(row["images_per_second"]), row)
    targets = {(row["image_size"], row["batch"]): row for row in results.get("targets", [])}
    pipeline = [row for row in results.get("pipeline", []) if "error" not in row]
    for row in pipeline:
        step = fastest.get((row["image_size"], row["batch"]))
        row["fastest_step_images_per_second"] = step[0] if step else None
        row["pipeline_to_step"] = median_rate(row["images_per_second"]) / step[0] if step else None
        target = targets.get((row["image_size"], row["batch"]))
        row["target_images_per_second"] = target["fastest_images_per_second"] if target else None
        for key, rate in (("pipeline_to_target", median_rate(row["images_per_second"])),
                          ("cpu_rate_to_target", median_rate(row.get("images_per_cpu_second"))),
                          ("first_pass_to_target", row.get("first_pass_images_per_second")),
                          ("first_pass_cpu_rate_to_target", row.get("first_pass_images_per_cpu_second"))):
            row[key] = rate / target["fastest_images_per_second"] if target and rate else None
    versions = {}
    for row in pipeline:
        versions.setdefault((row["source"], row.get("path"), row["image_size"], row["batch"]), {})[
            row.get("version", "working tree")] = row
    for by_version in versions.values():
        current = by_version.get("working tree")
        for label, other in by_version.items():
            if current is not None and label != "working tree":
                current["revision"] = label
                current["wall_vs_revision"] = (median_rate(current["images_per_second"])
                                               / median_rate(other["images_per_second"]))
                current["cpu_vs_revision"] = (median_rate(current["images_per_cpu_second"])
                                              / median_rate(other["images_per_cpu_second"]))
    return results


def gpu_targets(flops_rows, configs, tflops, utilisation, name):
    """Images/s a GPU of `tflops` peak consumes at `utilisation` in the GAN and the L1-only step of each config.

    Args:
        flops_rows: `benchmarks.flops.count` of each configuration, in order.
        configs: `(preset, width, batch)` of each.
        tflops: the GPU's peak, TFLOP/s.
        utilisation: the share of it a train step is assumed to reach.
        name: what the GPU is called in the tables.

    Returns:
        One `targets` row per configuration; `fastest_images_per_second` is the faster of the two steps'.

    Example:

    ```python
    gpu_targets([count("nazeri-cifar", 1.0)], [("nazeri-cifar", 1.0, 32)], 65.0, 0.3, "Colab T4")
    ```
    """
    rate = tflops * 1e12 * utilisation
    rows = []
    for (preset, width, batch), flops in zip(configs, flops_rows):
        gan, l1 = rate / flops["kcolor_step_flops"], rate / flops["l1_step_flops"]
        rows.append({
            "name": name, "preset": preset, "width": width, "batch": batch, "image_size": flops["image_size"],
            "tflops": tflops, "utilisation": utilisation, "gan_step_flops": flops["kcolor_step_flops"],
            "l1_step_flops": flops["l1_step_flops"], "gan_images_per_second": gan, "l1_images_per_second": l1,
            "fastest_images_per_second": max(gan, l1),
        })  # fmt: skip
    return rows

"""A run's results as markdown tables: what `python -m benchmarks` prints and what docs/PERFORMANCE.md shows."""

from benchmarks.derived import median_rate


def _rate(rate, digits=1):
    if not isinstance(rate, dict) or rate.get("median") is None:
        return "-"
    return f"{rate['median']:.{digits}f} [{rate['min']:.{digits}f}-{rate['max']:.{digits}f}]"


def _number(value, pattern):
    return "-" if value is None else pattern.format(value)


def markdown_table(headers, rows):
    """A markdown table.

    Args:
        headers: the column names.
        rows: lists of cells (any values; printed with `str`).

    Returns:
        The table's text, one line per row.

    Example:

    ```python
    markdown_table(["a", "b"], [[1, 2]])  # '| a | b |\n|---|---|\n| 1 | 2 |'
    ```
    """
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def format_tables(results):
    """The results of a run as markdown tables, one per section it has.

    Args:
        results: a run's results dict, as `benchmarks.run.main` writes it to JSON (also older runs' files).

    Returns:
        The tables' text, with a heading per table.

    Example:

    ```python
    print(format_tables(json.loads(Path("benchmarks/results/cpu-full.json").read_text())))
    ```
    """
    out = []
    if results.get("peak"):
        out.append("### Machine peak (square matrix product)\n")
        out.append(markdown_table(
            ["backend", "library", "dtype", "size", "GFLOP/s median [min-max]"],
            [[r.get("backend"), r.get("library"), r.get("dtype"), r.get("size"), _rate(r.get("gflops_per_second"))]
             for r in results["peak"] if "error" not in r]))
    if results.get("flops"):
        out.append("\n### Arithmetic per image (analytic, 2 FLOPs per multiply-add)\n")
        out.append(markdown_table(
            ["preset", "width", "px", "G fwd GFLOP", "D fwd GFLOP", "kcolor step", "reference step",
             "kcolor before sharing G(z)"],
            [[r["preset"], r["width"], r["image_size"], f"{r['generator_forward_flops'] / 1e9:.3f}",
              f"{r['discriminator_forward_flops'] / 1e9:.3f}", f"{r['kcolor_step_flops'] / 1e9:.3f}",
              f"{r['reference_step_flops'] / 1e9:.3f}", f"{r['kcolor_unshared_step_flops'] / 1e9:.3f}"]
             for r in results["flops"]]))
    if results.get("train"):
        out.append("\n### Train step (images/s, median [min-max] of the repeats)\n")
        rows = []
        for r in results["train"]:
            if "error" in r:
                rows.append([r.get("backend"), "error"] + [""] * 12)
                continue
            rows.append([
                r["backend"], r["implementation"], r["preset"], r["width"], r["batch"],
                "on" if r["xla"] else "off", r["precision"], _rate(r["images_per_second"]),
                _number(median_rate(r["step_seconds"]), "{:.3f}"),
                _number(r["flops_per_image"] and r["flops_per_image"] / 1e9, "{:.3f}"),
                _number(r["gflops_per_second"], "{:.1f}"), _number(r.get("utilisation"), "{:.0%}"),
                _number(r.get("ratio_to_reference"), "{:.2f}x"), f"{r['compile_s']:.1f}",
            ])
        out.append(markdown_table(
            ["backend", "step", "preset", "width", "batch", "XLA", "precision", "images/s", "s/step",
             "GFLOP/img", "GFLOP/s", "util.", "vs reference", "1st step s"], rows))
        costs = [r for r in results["train"] if r.get("xla_cost_flops_per_image")]
        if costs:
            out.append("\nXLA's cost analysis of the compiled JAX step vs the analytic count (GFLOP per image): "
                       + "; ".join(f"{r['preset']}@{r['width']}: XLA {r['xla_cost_flops_per_image'] / 1e9:.3f}, "
                                   f"analytic {r['flops_per_image'] / 1e9:.3f}" for r in costs))
    if results.get("upsampling"):
        out.append("\n### Generator upsampling: Conv2DTranspose as Keras runs it vs an exact sub-pixel rewrite "
                   "(forward + backward of all 4x4 stride-2 layers, s per batch)\n")
        out.append(markdown_table(
            ["backend", "preset", "width", "batch", "XLA", "layers", "GFLOP", "Keras conv_transpose s",
             "sub-pixel s", "speed-up", "max rel. difference"],
            [[r["backend"], r["preset"], r["width"], r["batch"], "on" if r["xla"] else "off", r["layers"],
              f"{r['useful_gflop']:.1f}", f"{r['native_s']:.3f}", f"{r['subpixel_s']:.3f}", f"{r['speedup']:.2f}x",
              f"{r['max_relative_difference']:.1e}"]
             for r in results["upsampling"] if "error" not in r]))
    if results.get("targets"):
        out.append("\n### What a GPU consumes (FLOPs per image / assumed GFLOP/s)\n")
        out.append(markdown_table(
            ["GPU", "preset", "width", "px", "batch", "GAN step GFLOP/img", "L1 step GFLOP/img", "assumed TFLOP/s",
             "GAN img/s", "L1 img/s", "2x the faster"],
            [[r["name"], r["preset"], r["width"], r["image_size"], r["batch"], f"{r['gan_step_flops'] / 1e9:.3f}",
              f"{r['l1_step_flops'] / 1e9:.3f}", f"{r['tflops']:g} x {r['utilisation']:.0%}",
              f"{r['gan_images_per_second']:.0f}", f"{r['l1_images_per_second']:.0f}",
              f"{2 * r['fastest_images_per_second']:.0f}"] for r in results["targets"]]))
    if results.get("pipeline"):
        out.append("\n### Input pipeline (uint8 batches, decoded and augmented; images/s)\n")
        out.append(markdown_table(
            ["source", "path", "version", "cache", "px", "batch", "setup s", "first epoch img/s (img/CPU-s)",
             "images/s", "images/CPU-s", "GPU img/s", "CPU-s rate / GPU", "fastest step img/s", "pipeline / step"],
            [[r["source"], r.get("path", "load_dataset"), r.get("version", "working tree"), r["cache"],
              r["image_size"], r["batch"], f"{r['setup_s']:.1f}",
              _number(r.get("first_pass_images_per_second"), "{:.0f}")
              + _number(r.get("first_pass_images_per_cpu_second"), " ({:.0f})"), _rate(r["images_per_second"], 0),
              _rate(r.get("images_per_cpu_second"), 0), _number(r.get("target_images_per_second"), "{:.0f}"),
              _number(r.get("cpu_rate_to_target"), "{:.1f}x"),
              _number(r.get("fastest_step_images_per_second"), "{:.1f}"), _number(r.get("pipeline_to_step"), "{:.1f}x")]
             for r in results["pipeline"] if "error" not in r]))
        compared = [r for r in results["pipeline"] if r.get("revision")]
        if compared:
            out.append("\n### Input pipeline A/B (alternating rounds): working tree vs revision\n")
            out.append(markdown_table(
                ["source", "path", "px", "batch", "revision", "images/CPU-s (working tree)", "CPU-s rate vs revision",
                 "wall-clock rate vs revision"],
                [[r["source"], r["path"], r["image_size"], r["batch"], r["revision"],
                  _rate(r["images_per_cpu_second"], 0), f"{r['cpu_vs_revision']:.2f}x", f"{r['wall_vs_revision']:.2f}x"]
                 for r in compared]))
        failed = [r for r in results["pipeline"] if "error" in r]
        if failed:
            out.append("\nFailed pipeline rows: " + "; ".join(
                f"{r.get('source', r.get('kind'))}/{r.get('path')}/{r.get('version')}: {r['error']}" for r in failed))
    if results.get("colorize"):
        out.append("\n### colorize_photo\n")
        out.append(markdown_table(
            ["backend", "generator", "photo", "render", "first call s", "latency s median [min-max]",
             "RSS before MiB", "peak RSS MiB"],
            [[r["backend"], f"{r['preset']}@{r['width']}", f"{r['width_px']}x{r['height']} ({r['megapixels']:.1f} MP)",
              r["render_size"], f"{r['first_call_s']:.2f}", _rate(r["seconds"], 2),
              _number(r["baseline_rss_mib"], "{:.0f}"), f"{r['peak_rss_mib']:.0f}"]
             for r in results["colorize"] if "error" not in r]))
    if results.get("fit"):
        out.append("\n### fit end to end (npz pipeline + train step)\n")
        out.append(markdown_table(
            ["backend", "preset", "width", "batch", "XLA", "precision", "images/s", "step traces"],
            [[r["backend"], r["preset"], r["width"], r["batch"], "on" if r["xla"] else "off", r["precision"],
              _rate(r["images_per_second"]), r["step_traces"]]
             for r in results["fit"] if "error" not in r]))
    return "\n".join(out)

"""Repeated timing with warm-up, robust summaries, and a description of the machine."""

import datetime
import os
import platform
import statistics
import time


def summarize(values):
    """Median, min, max and the interquartile range of a list of rates (e.g. images/s per repeat)."""
    values = sorted(float(value) for value in values)
    if not values:
        return {"median": None, "min": None, "max": None, "iqr": None, "values": []}
    if len(values) >= 4:
        quartiles = statistics.quantiles(values, n=4)
        iqr = quartiles[2] - quartiles[0]
    else:
        iqr = values[-1] - values[0]
    return {
        "median": statistics.median(values),
        "min": values[0],
        "max": values[-1],
        "iqr": iqr,
        "values": values,
    }


def measure_rate(run_once, items_per_run, repeats, warmup=1):
    """Calls `run_once` `warmup` times untimed, then `repeats` times timed; returns items/s per repeat.

    `run_once` must block until its work is done (e.g. return host values).
    """
    for _ in range(warmup):
        run_once()
    rates, seconds = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        run_once()
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        rates.append(items_per_run / elapsed)
    return summarize(rates), summarize(seconds)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16")
                    return [flag for flag in wanted if flag in flags]
    except OSError:
        pass
    return []


def _memory_gib():
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine_info():
    """What the numbers were measured on: CPU, cores, memory, load, OS and Python."""
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_at_start": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def peak_rss_mib():
    """Peak resident memory of this process so far, in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib():
    """Resident memory of this process now, in MiB (Linux; None elsewhere)."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None

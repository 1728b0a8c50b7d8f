"""A district file checked in a child process whose CPU time and memory are capped.

`check_districts` is bounded for any file a district file can honestly be (its size, positions
and objects are capped before it is parsed), but GEOS's simplifiers are not: a crafted boundary
(a comb of thin teeth, a ring crossing itself thousands of times) makes them take minutes, and
their recursion overflows the stack at ~80,000 vertices, killing the whole process. So a file
sent to the server is checked in a child process with `resource` limits: a file that needs more
than `CHECK_CPU_SECONDS` or `CHECK_MEMORY_MB` is refused with a message, and the server's own
process never runs the simplifier.

The child writes the file's features as kept (boundaries simplified) to the output path and
prints a JSON summary; run it as `python -m datasets.district_check IN OUT --filename NAME`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .city_admin import (
    CityError,
    DiskFull,
    check_districts,
    geojson_bytes,
    is_disk_full,
    write_synced,
)

# Measured: a file of 1 M positions in ten polygons takes 1.9 CPU-s and 135 MB at most; the
# largest the checks admit (2 M positions in one polygon) 5 CPU-s and 780 MB.
CHECK_CPU_SECONDS = 30
CHECK_WALL_SECONDS = 120  # on a busy machine the CPU seconds take longer to come
CHECK_MEMORY_MB = 1536  # address space: the interpreter and its libraries take ~400 MB of it
PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFUSED, DISK_FULL = 10, 11  # the child's answers besides 0 (argparse exits 2, Python 1)


@dataclass(frozen=True)
class Summary:
    """What the child found: the districts, and the vertices read and kept."""

    districts: int
    vertices_read: int
    vertices_kept: int
    notes: list[str]


def _limit_self(cpu_seconds: int, memory_mb: int) -> None:
    """The child's first act: cap its own CPU time and address space (set here rather than
    between fork and exec, which is unsafe in the server's threaded processes)."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def check_file(source: Path, kept: Path, filename: str, name_field: str | None = None) -> Summary:
    """Check `source` in a bounded child, which writes the features as kept to `kept`.

    Raises `CityError` (the file's problem, or the limits it went past) or `DiskFull`."""
    command = [sys.executable, "-m", "datasets.district_check", str(source), str(kept)]
    command += [f"--filename={filename}", f"--cpu-seconds={CHECK_CPU_SECONDS}"]
    command += [f"--memory-mb={CHECK_MEMORY_MB}"]
    if name_field:
        command += [f"--name-field={name_field}"]  # one argument: a leading '-' stays a value
    # one thread per library: each thread's arena would count against the address space
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHECK_WALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        done = None
    if done is not None and done.returncode in (0, REFUSED, DISK_FULL):
        answer = json.loads(done.stdout)
        if done.returncode == DISK_FULL:
            raise DiskFull()
        if done.returncode == REFUSED:
            raise CityError(answer["error"])
        return Summary(**answer)
    kept.unlink(missing_ok=True)
    raise CityError(
        f"{filename}: the boundaries could not be checked within {CHECK_CPU_SECONDS} s and "
        f"{CHECK_MEMORY_MB} MB: simplify them first (mapshaper, QGIS), or add the city on "
        "the command line"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("kept")
    parser.add_argument("--filename", required=True)
    parser.add_argument("--name-field")
    parser.add_argument("--cpu-seconds", type=int, default=CHECK_CPU_SECONDS)
    parser.add_argument("--memory-mb", type=int, default=CHECK_MEMORY_MB)
    args = parser.parse_args(argv)
    _limit_self(args.cpu_seconds, args.memory_mb)
    try:
        checked = check_districts(
            Path(args.source).read_bytes(), args.filename, args.name_field or None
        )
        write_synced(Path(args.kept), geojson_bytes(checked.source))
    except CityError as exc:
        print(json.dumps({"error": str(exc)}))
        return REFUSED
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        Path(args.kept).unlink(missing_ok=True)
        print(json.dumps({"error": str(DiskFull())}))
        return DISK_FULL
    summary = Summary(
        len(checked.districts), checked.vertices_read, checked.vertices_kept, checked.notes
    )
    print(json.dumps(summary.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())

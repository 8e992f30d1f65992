"""Settings for polars' memory allocator, made before polars is loaded.

polars allocates with jemalloc on Linux. Its defaults suit a long-lived process that must give
memory back: freed pages go back to the OS within about half a second (allocations of 8 MB and
more at once, from an arena of their own), and threads spread over 8 arenas, so that memory freed
by one thread is seldom reused by another. A run of revops allocates and frees its frames'
memory several times over in a few seconds, so most of its pages were faulted in again and again:
on the benchmark's 2-core machine that was a quarter of the audit's CPU time (1.8 million page
faults at scale 1).

The settings keep freed pages for 3 seconds and in one arena, where the next frame reuses them,
and purge them outright after that (`muzzy_decay_ms:0`: no lazily freed stage, whose pages would
still count in the resident set). Big allocations use the same arena. The same kind of settings
serve ClickHouse and Apache Arrow. The environment variable is read once, when polars loads, so
`tune_allocator` must run before anything imports polars: the command-line entry point calls it
first, and it changes nothing once polars is imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

ENV = "_RJEM_MALLOC_CONF"  # jemalloc's MALLOC_CONF under the prefix polars builds it with
SETTINGS = "narenas:1,oversize_threshold:0,muzzy_decay_ms:0,dirty_decay_ms:3000"


def tune_allocator(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put SETTINGS in front of any value the user gave (jemalloc reads the options left to
    right, so the user's own win); nothing when polars is already loaded."""
    if "polars" in sys.modules:
        return
    own = environ.get(ENV, "").strip(", ")
    environ[ENV] = f"{SETTINGS},{own}" if own else SETTINGS

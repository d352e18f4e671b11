"""Keep the memory a request frees for the next one, instead of handing it back to the kernel.

glibc's malloc serves blocks over 128 KiB with fresh ``mmap`` pages and returns freed memory at
the top of the heap as soon as it passes 128 KiB. A batch request allocates several such blocks
(its body, the parser's buffers, the feature matrix, the probabilities, the answer), so every
request page-faulted them back in, a large share of a batch request's in-process time (figures in
docs/performance.md, measured on bench/load/floor.py's path). The cost is that each process keeps
up to ``TRIM_THRESHOLD`` of freed memory for reuse.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap, which keeps them once freed (glibc caps it at 32 MiB).
MMAP_THRESHOLD = 4 * 1024 * 1024
# Free memory at the top of the heap beyond this goes back to the kernel.
TRIM_THRESHOLD = 32 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (inherited by forked workers); False where malloc is not glibc's."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, macOS: their allocators do not take these settings
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    log.debug("malloc thresholds %s", "set" if applied else "refused")
    return applied

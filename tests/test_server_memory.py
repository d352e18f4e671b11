"""What a reload replaces in the master is freed, although the loaded set is frozen for the GC."""

from __future__ import annotations

import gc
import weakref

from api.server.master import freeze_loaded_objects


class Replaced:
    """Stands for an app a reload replaced: it sits in a reference cycle, as apps do."""

    def __init__(self) -> None:
        self.me = self


def test_a_second_freeze_frees_what_the_first_one_froze() -> None:
    try:
        thing = Replaced()
        ref = weakref.ref(thing)
        freeze_loaded_objects()
        del thing
        gc.collect()
        assert ref() is not None  # frozen: out of the collector's sight
        freeze_loaded_objects()  # the next reload
        assert ref() is None
    finally:
        gc.unfreeze()

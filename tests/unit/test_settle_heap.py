"""A document builder's heap, settled once it has started (`settle_heap`), still frees what its batches make:
the collector keeps running and collects cycles made afterwards, and only what the process held at the time
is set aside. Run in a process of its own: it changes its process for good."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc, weakref
from register.search.indexer import settle_heap

class Node:
    pass

settle_heap()
assert gc.isenabled(), "the collector was switched off"
assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: only the collector frees it
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None, "a cycle made after settling was not collected"
print("ok")
"""


def test_a_settled_builder_still_collects_what_it_makes_afterwards() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

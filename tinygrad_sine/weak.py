"""``WeakIdDict``: a dictionary whose keys are held weakly and compared by identity.

``weakref.WeakKeyDictionary`` finds a key by comparing it with ``==``.  A
Value's ``==`` compares numbers elementwise (see ``Value``), so there two
different Values could be taken for one, or the lookup could raise.  Here a
key is found by ``id`` only, and its entry goes when the key is freed, so an
entry never keeps a Value (or its graph) alive.  PyTorch keeps such a
dictionary for tensors for the same reason.
"""

from __future__ import annotations

import weakref


class WeakIdDict:
    """``d[key] = value`` with ``key`` held weakly and matched by identity, never by ``==``."""

    def __init__(self):
        self._items: dict[int, tuple[weakref.ref, object]] = {}

    def __setitem__(self, key, value) -> None:
        k = id(key)
        items = self._items

        def forget(ref, k=k):  # the key was freed: drop its entry (unless a new key took the id)
            entry = items.get(k)
            if entry is not None and entry[0] is ref:
                del items[k]

        self._items[k] = (weakref.ref(key, forget), value)

    def get(self, key, default=None):
        entry = self._items.get(id(key))
        if entry is None or entry[0]() is not key:
            return default
        return entry[1]

    def __contains__(self, key) -> bool:
        entry = self._items.get(id(key))
        return entry is not None and entry[0]() is key

    def __len__(self) -> int:
        return len(self._items)

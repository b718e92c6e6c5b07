"""`ModelPeers`: read-only views of one library on other models' vectors, for comparing models side by
side. Each is a `Library` opened read-only on that model the first time it is asked for, and kept until
the library closes (opening one reads its FAISS index: seconds on a large library)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol


class Peer(Protocol):
    def close(self) -> None: ...


class ModelPeers:
    def __init__(self, open_peer: Callable[[str], Peer]) -> None:
        self._open = open_peer
        self._peers: dict[str, Peer] = {}
        self._lock = threading.Lock()  # two comparisons asking for one model open it once

    def get(self, model: str) -> Peer:
        with self._lock:
            peer = self._peers.get(model)
            if peer is None:
                peer = self._peers[model] = self._open(model)
            return peer

    def close(self) -> None:
        with self._lock:
            for peer in self._peers.values():
                peer.close()
            self._peers.clear()

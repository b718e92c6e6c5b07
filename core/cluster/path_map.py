"""`--path-map OLD=NEW`: where the cluster's machines see the photos the manifest names.

A manifest records the paths the library knows (`/home/ann/Pictures/...`); the cluster may mount the same
photo store elsewhere (`/mnt/photos/...`). Reads go to the mapped path, while shards keep the manifest's
path so `import-vectors` matches each row to its photo in the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import LookalikeError


@dataclass(frozen=True)
class PathMap:
    """Prefix rewrites, longest prefix first, each matching whole path components only."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: Sequence[str]) -> PathMap:
        pairs = []
        for spec in specs:
            old, sep, new = spec.partition("=")
            if not sep or not old or not new:
                raise LookalikeError(f"--path-map wants OLD=NEW (two folder prefixes), not {spec!r}")
            pairs.append((old.rstrip("/") or "/", new.rstrip("/") or "/"))
        # The longest prefix wins: /photos/raw=/fast mapped before /photos=/slow.
        return cls(tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True)))

    def apply(self, path: str) -> str:
        for old, new in self.pairs:
            if path == old:
                return new
            if old == "/" and path.startswith("/"):
                return new.rstrip("/") + path
            if path.startswith(old + "/"):
                return new + path[len(old):]
        return path

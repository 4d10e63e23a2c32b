"""Sidecar JSON with BIDS inheritance, indexed once for the whole tree."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from load_db.bids.entities import BidsPath


class SidecarIndex:
    """Every .json sidecar of a tree, by (folder, suffix), read at most once, when first needed.

    BIDS inheritance: a sidecar applies to a data file when it sits in the file's folder or an
    ancestor folder, has the same suffix, and all its entities are among the file's entities.
    The applicable sidecars merge from the top of the tree down, so a nearer one overrides key
    by key; within one folder the one with more entities (more specific) wins.
    """

    def __init__(self, sidecars: Iterable[BidsPath], read_json: Callable[[str], dict[str, Any]]):
        self._read_json = read_json
        self._by_folder_suffix: dict[tuple[str, str], list[BidsPath]] = defaultdict(list)
        for sidecar in sidecars:
            if sidecar.name.valid:
                self._by_folder_suffix[(sidecar.directory, sidecar.name.suffix)].append(sidecar)
        for candidates in self._by_folder_suffix.values():
            candidates.sort(key=lambda sidecar: (len(sidecar.name.entities), sidecar.path))
        self._cache: dict[str, dict[str, Any]] = {}
        # (folder, suffix) -> the sidecars of that folder and its ancestors: files share folders
        self._in_reach: dict[tuple[str, str], list[BidsPath]] = {}
        self._ancestors: dict[str, list[str]] = {}  # folder -> it and its ancestors, top first

    def __len__(self) -> int:
        return sum(len(candidates) for candidates in self._by_folder_suffix.values())

    def applicable(self, data: BidsPath) -> list[str]:
        """Paths of the sidecars that apply to `data`, least specific first."""
        directory, suffix = data.path.rpartition("/")[0], data.name.suffix
        in_reach = self._in_reach.get((directory, suffix))
        if in_reach is None:
            folders = self._ancestors.get(directory)
            if folders is None:
                folders = self._ancestors[directory] = _folders_down_to(directory)
            in_reach = self._in_reach[(directory, suffix)] = [
                sidecar for folder in folders
                for sidecar in self._by_folder_suffix.get((folder, suffix), ())]
        return [sidecar.path for sidecar in in_reach if sidecar.name.matches(data.name)]

    def metadata(self, data: BidsPath) -> dict[str, Any]:
        """The merged sidecar metadata of the data file `data` ({} when none applies)."""
        merged: dict[str, Any] = {}
        for path in self.applicable(data):
            if path not in self._cache:
                self._cache[path] = self._read_json(path)
            merged.update(self._cache[path])
        return merged


def _folders_down_to(directory: str) -> list[str]:
    """'' (the root), then each folder down to `directory`: 'a/b' -> ['', 'a', 'a/b']."""
    if not directory:
        return [""]
    parts = directory.split("/")
    return [""] + ["/".join(parts[: depth + 1]) for depth in range(len(parts))]

"""A directory written the way the kubelet writes a ConfigMap or Secret volume.

Files are symlinks ``name -> ..data/name``; ``..data`` points at a timestamped directory;
an update writes a new directory, links ``..data_tmp`` to it, renames that over ``..data``
(atomic) and removes the old directory.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

_generation = itertools.count()


class ConfigMapVolume:
    def __init__(self, root: Path, files: dict[str, bytes]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._current: Path | None = None
        self.update(files)

    def path(self, name: str) -> Path:
        return self.root / name

    def update(self, files: dict[str, bytes]) -> None:
        generation = self.root / f"..2026_11_24_00_00_00.{next(_generation)}"
        generation.mkdir()
        for name, content in files.items():
            (generation / name).write_bytes(content)
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(generation.name)
        os.rename(tmp, self.root / "..data")
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(Path("..data") / name)
        if self._current is not None:
            shutil.rmtree(self._current)
        self._current = generation

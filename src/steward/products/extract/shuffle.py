"""Row shuffling in bounded memory: rows go to random bucket files, each bucket is shuffled alone.

Every row lands in a uniformly random bucket and each bucket is permuted uniformly, so the output
order is a uniform random permutation while memory holds one bucket at a time.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Self


class Shuffler:
    """Collects text lines and yields them back in random order."""

    def __init__(self, directory: Path, buckets: int = 64) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix=".shuffle-", dir=directory))
        self._rng = random.Random(secrets.randbits(128))
        self._files: list[IO[str]] = [
            (self._dir / f"{i:04d}").open("w", encoding="utf-8", newline="") for i in range(max(1, buckets))
        ]
        self.count = 0

    def add_many(self, lines: list[str]) -> None:
        files = self._files
        choose = self._rng.randrange
        n = len(files)
        for line in lines:
            files[choose(n)].write(line)
        self.count += len(lines)

    def drain(self) -> Iterator[str]:
        """The lines in random order (each bucket read, shuffled, yielded, deleted)."""
        for handle in self._files:
            handle.close()
        order = list(range(len(self._files)))
        self._rng.shuffle(order)
        for i in order:
            path = self._dir / f"{i:04d}"
            with path.open(encoding="utf-8", newline="") as handle:
                lines = handle.readlines()
            os.unlink(path)
            self._rng.shuffle(lines)
            yield from lines

    def close(self) -> None:
        for handle in self._files:
            if not handle.closed:
                handle.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

"""datasets.locks: the probe of a lock another open file holds."""

from __future__ import annotations

import fcntl
import os

from datasets.locks import held


def test_a_lock_is_seen_while_held_and_not_after(tmp_path):
    path = tmp_path / "run.lock"
    assert held(path) is None  # missing, not created
    assert held(path, create=True) is False
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    assert held(path) is True
    os.close(fd)
    assert held(path) is False

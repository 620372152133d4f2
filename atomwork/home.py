"""Where atomwork keeps its files: ``$ATOMWORK_HOME``, default ``~/.cache/atomwork``.

Holds the assembled model, the demo warehouse, run records, plan memory and the audit log.
What records a user's goals and data is written for its owner only (folders 0700, files 0600).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["atomwork_home", "private_dir", "write_private"]


def atomwork_home() -> Path:
    return Path(os.environ.get("ATOMWORK_HOME", Path.home() / ".cache" / "atomwork")).expanduser()


def private_dir(path: Path) -> Path:
    """``path`` made (with its parents) and readable by its owner only; OSError when it cannot be."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)  # also a folder made before with a looser mode
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a reader sees the old or the new file, never half
    of one), readable by its owner only; OSError when it cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

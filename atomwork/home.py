"""Where atomwork keeps its files: ``$ATOMWORK_HOME``, default ``~/.cache/atomwork``.

Holds the assembled model, the demo warehouse, run records and plan memory.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomwork_home() -> Path:
    return Path(os.environ.get("ATOMWORK_HOME", Path.home() / ".cache" / "atomwork")).expanduser()

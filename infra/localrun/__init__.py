"""The local runtime. Importing it puts ``shared/`` on sys.path, as vendoring does in a zip."""
import sys
from pathlib import Path

_SHARED = str(Path(__file__).resolve().parents[2] / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

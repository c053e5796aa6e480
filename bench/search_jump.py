"""placeholder"""
from pathlib import Path
from typing import Any
def jump_ms(tmp: Path, quick: bool) -> dict[str, Any]:
    return {}

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def rfc6962_vectors() -> Path:
    path = SHARED_VECTORS / "rfc6962"
    if not path.is_dir():
        pytest.skip(f"standard vectors not found at {path} (they live in ../shared beside the project)")
    return path

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@pytest.fixture
def tiny_dir() -> Path:
    return INSTANCES / "tiny"


@pytest.fixture
def uk_dir() -> Path:
    return INSTANCES / "uk_missions"


@pytest.fixture
def tiny_copy(tmp_path) -> Path:
    dst = tmp_path / "tiny"
    shutil.copytree(INSTANCES / "tiny", dst)
    return dst

"""The default instance ships inside the wheel, so `allocator solve` works outside the tree."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_instances_and_subpackages(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    wheel = next(tmp_path.glob("allocator-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("instance.yaml", "departments.csv", "programmes.csv", "segments.csv", "lags.csv",
              "fiscal.csv", "SOURCES.md", "README.md"):
        assert f"allocator/instances/uk_missions/{f}" in names, f
    assert "allocator/instances/tiny/instance.yaml" in names
    assert "allocator/models/constraints/fiscal_rules.py" in names
    assert "allocator/solvers/highs.py" in names
    assert not any(n.startswith(("models/", "solvers/", "instances/")) for n in names)
    # every sub-package of the source tree is in the wheel
    for init in ROOT.joinpath("allocator").rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} missing from the wheel: add its package to pyproject.toml"


def test_default_instance_resolves_from_package(tmp_path):
    """`allocator solve` with no instance, run from an unrelated folder, uses package data."""
    p = subprocess.run([sys.executable, "-m", "allocator", "solve", "--json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert '"instance": "uk_missions"' in p.stdout

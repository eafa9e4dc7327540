"""write_instance is the inverse of load_instance."""

from allocator import instance_sha256, load_instance
from allocator.instance_writer import write_instance


def test_round_trip_keeps_the_hash(uk_dir, tmp_path):
    inst = load_instance(uk_dir)
    again = load_instance(write_instance(inst, tmp_path / "copy"))
    assert instance_sha256(again) == instance_sha256(inst)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left

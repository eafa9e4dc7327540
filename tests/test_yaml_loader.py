"""instance.yaml and events files are read on libyaml's C parser where PyYAML has it, with
the bounded loader's refusals applied to the event stream first: every input gives the same
value, or the same error (message, line and column), as the pure-Python bounded loader."""

import pytest

from allocator import io
from allocator.errors import InstanceError

CASES = {
    "anchor and alias": "a: &x 1\nb: *x\n",
    "alias only": "a: [1, *x]\n",
    "unused anchor": "a: &x 1\n",
    "duplicate key": "a: 1\nb: {c: 1, c: 2}\n",
    "unclosed flow": "a: [1, 2\n",
    "stray brace": "a: {b: 1}}\n",
    "deep block": "- " * 60 + "1\n",
    "deep flow": "[" * 60 + "]" * 60,
    "depth 50 is fine": "[" * 49 + "1" + "]" * 49,
    "too many values": "\n".join(f"k{i}: {i}" for i in range(100_001)),
    "two documents": "a: 1\n---\nb: 2\n",
    "tab": "key: value\n\tbad: tab\n",
    "python tag": "a: !!python/object/apply:os.system [echo]\n",
    "scalars": "a: 2020-01-01\nb: 1e3\nc: 0x1F\nd: null\ne: yes\nf: 1.5\ng: '007'\n",
    "empty": "",
}


def _load(text):
    try:
        return ("value", io.load_yaml(text, "f.yaml"))
    except InstanceError as e:
        return ("error", str(e))


@pytest.mark.skipif(io._CSafeLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("name", sorted(CASES))
def test_c_parser_path_matches_the_pure_python_loader(name, monkeypatch):
    text = CASES[name]
    fast = _load(text)
    monkeypatch.setattr(io, "_CSafeLoader", None)
    assert fast == _load(text)


def test_refusals_on_the_c_path_name_line_and_column():
    kind, msg = _load("a:\n  b: &x 1\n")
    assert kind == "error" and "line 2, column 6" in msg and "anchors (&name) are not allowed" in msg
    kind, msg = _load("[" * 51 + "]" * 51)
    assert kind == "error" and "line 1, column 51" in msg and "nested more than 50 levels deep" in msg

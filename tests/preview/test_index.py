"""The index and its journal: replay after a kill, torn lines, staleness checks, the lock, atomic writes."""

from __future__ import annotations

import json

import pytest

from arlens.errors import InputError
from arlens.preview.index import JOURNAL, OutputLocked, PreviewIndex, atomic_write


def render(photo: str, product: str, size: int = 3) -> dict:
    return {"type": "render", "photo": photo, "product": product, "path": f"renders/{photo}/{product}.png",
            "bytes": size, "photo_sha256": "p", "product_hash": "h", "settings": "s"}


def test_journal_replays_after_a_kill_and_a_torn_last_line_is_dropped(tmp_path):
    with PreviewIndex(tmp_path) as index:
        index.append([render("a", "X"), render("a", "Y")])
    # a kill mid-write leaves half a line at the end
    with open(tmp_path / JOURNAL, "a") as f:
        f.write('{"type":"render","photo":"a","prod')
    with PreviewIndex(tmp_path) as index:
        assert set(index.renders) == {("a", "X"), ("a", "Y")} and index.torn_lines == 1
        index.append([render("b", "X")])  # appended after the cut, not glued to the torn line
    with PreviewIndex(tmp_path) as index:
        assert set(index.renders) == {("a", "X"), ("a", "Y"), ("b", "X")} and index.torn_lines == 0


def test_write_folds_the_journal_into_index_json(tmp_path):
    with PreviewIndex(tmp_path) as index:
        index.append([render("b", "X"), render("a", "X"), {"type": "failed", "photo": "a", "product": "Z",
                                                            "reason": "r"}])
        index.write({"note": 1})
        assert (tmp_path / JOURNAL).read_text() == ""
    doc = json.loads((tmp_path / "index.json").read_text())
    assert doc["format"] == "arlens.preview.index" and doc["note"] == 1
    assert [(r["photo"], r["product"]) for r in doc["renders"]] == [("a", "X"), ("b", "X")]
    assert doc["failed"][0]["reason"] == "r"
    with PreviewIndex(tmp_path) as index:
        assert set(index.renders) == {("a", "X"), ("b", "X")} and ("a", "Z") in index.failed


def test_a_later_render_clears_a_failure_and_the_other_way_round(tmp_path):
    with PreviewIndex(tmp_path) as index:
        index.append([{"type": "failed", "photo": "a", "product": "X", "reason": "r"}, render("a", "X")])
        assert ("a", "X") in index.renders and ("a", "X") not in index.failed
        index.append([{"type": "failed", "photo": "a", "product": "X", "reason": "r"}])
        assert ("a", "X") not in index.renders and ("a", "X") in index.failed


def test_is_done_needs_the_same_hashes_and_the_file_with_its_size(tmp_path):
    with PreviewIndex(tmp_path) as index:
        index.append([render("a", "X")])
        assert not index.is_done("a", "X", "p", "h", "s")  # no file yet
        (tmp_path / "renders/a").mkdir(parents=True)
        (tmp_path / "renders/a/X.png").write_bytes(b"abc")
        assert index.is_done("a", "X", "p", "h", "s")
        assert not index.is_done("a", "X", "p2", "h", "s")  # photo changed
        assert not index.is_done("a", "X", "p", "h2", "s")  # product changed
        assert not index.is_done("a", "X", "p", "h", "s2")  # settings changed
        (tmp_path / "renders/a/X.png").write_bytes(b"ab")  # damaged since
        assert not index.is_done("a", "X", "p", "h", "s")


def test_one_run_per_output_folder(tmp_path):
    with PreviewIndex(tmp_path), pytest.raises(OutputLocked, match="another run"):
        PreviewIndex(tmp_path).open()
    with PreviewIndex(tmp_path):  # released on exit
        pass


def test_an_index_json_of_something_else_is_never_overwritten(tmp_path):
    (tmp_path / "index.json").write_text('{"name": "my web app"}')
    with pytest.raises(InputError, match="refusing to overwrite"):
        PreviewIndex(tmp_path).open()
    assert (tmp_path / "index.json").read_text() == '{"name": "my web app"}'


def test_stray_temporary_files_of_a_killed_run_are_cleared(tmp_path):
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / ".X.png.123.tmp").write_bytes(b"half")
    with PreviewIndex(tmp_path) as index:
        assert not any(index.tmp_dir.iterdir())


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "b.png"
    atomic_write(target, b"one", tmp_path / ".tmp")
    atomic_write(target, b"two!", tmp_path / ".tmp")
    assert target.read_bytes() == b"two!" and not any((tmp_path / ".tmp").iterdir())

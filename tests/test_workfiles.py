"""The work-file kit (atomic writes, memory maps, the per-rank layout and meta) and the positional filter."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from curation.errors import RunStateError
from curation.positional import PositionalFilter
from curation.steps import SideOutputs
from curation.workfiles import (
    AtomicFile,
    RankFiles,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    memmap,
    save_npy,
    save_npz,
)


def test_atomic_write_creates_folders_and_replaces_whole(tmp_path):
    target = tmp_path / "a" / "b" / "meta.json"
    atomic_write_json(target, {"world_size": 2})
    assert json.loads(target.read_text()) == {"world_size": 2}
    atomic_write_text(target, "Habari, dunia 你好")
    assert target.read_text(encoding="utf-8") == "Habari, dunia 你好"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["meta.json"]


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "edges" / "00000.npy"
    save_npy(target, np.arange(3))
    with pytest.raises(RuntimeError, match="killed"), AtomicFile(target) as handle:
        handle.write(b"half a file")
        raise RuntimeError("killed mid-write")
    assert np.load(target).tolist() == [0, 1, 2], "the complete file a rerun trusts is untouched"
    assert sorted(p.name for p in target.parent.iterdir()) == ["00000.npy"]


def test_an_aborted_stream_leaves_nothing_and_a_committed_one_appears_whole(tmp_path):
    stream = AtomicFile(tmp_path / "keys.bin")
    stream.write(b"abc")
    assert not (tmp_path / "keys.bin").exists(), "nothing under the real name before commit"
    stream.abort()
    assert list(tmp_path.iterdir()) == []
    stream = AtomicFile(tmp_path / "keys.bin")
    stream.write(b"abc")
    stream.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["keys.bin"] and (tmp_path / "keys.bin").read_bytes() == b"abc"


def test_numpy_files_land_at_exactly_the_path_given(tmp_path):
    save_npy(tmp_path / "docs.npy", np.array([1, 2], dtype=np.uint64))
    save_npz(tmp_path / "clusters.npz", removed=np.array([4], dtype=np.uint32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clusters.npz", "docs.npy"]
    assert np.load(tmp_path / "docs.npy").tolist() == [1, 2]
    with np.load(tmp_path / "clusters.npz") as saved:
        assert saved["removed"].tolist() == [4]


def test_memmap_reads_rows_and_maps_an_empty_file_as_empty(tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    empty = memmap(tmp_path / "empty.bin", np.uint64)
    assert empty.shape == (0,) and empty.dtype == np.uint64
    assert memmap(tmp_path / "empty.bin", np.uint16, rows=0, row_shape=(4,)).shape == (0, 4)
    np.arange(8, dtype=np.uint16).tofile(tmp_path / "prints.bin")
    assert memmap(tmp_path / "prints.bin", np.uint16).tolist() == list(range(8))
    assert memmap(tmp_path / "prints.bin", np.uint16, rows=2, row_shape=(4,)).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_rank_layout_paths(tmp_path):
    files = RankFiles(tmp_path, first="signatures", writer="DedupSignatures", noun="dedup signature")
    assert files.rank_file("edges", 3, ".npy") == tmp_path / "edges" / "00003.npy"
    assert files.rank_file("signatures/bands/007", 12, ".npy") == tmp_path / "signatures" / "bands" / "007" / "00012.npy"
    assert files.meta(1) == tmp_path / "signatures" / "meta" / "00001.json"


def test_stage_meta_round_trip_and_mismatches_are_run_state_errors(tmp_path):
    files = RankFiles(tmp_path, first="candidates", writer="SelectCandidates", noun="select candidate")
    with pytest.raises(RunStateError, match=r"no select candidates under .*: run SelectCandidates first"):
        files.metas()
    files.write_meta(0, 2, 5, slots=128)
    assert files.read_meta(0, 2, "SelectFilter") == {"world_size": 2, "docs": 5, "slots": 128}
    with pytest.raises(RunStateError, match="1 of 2 select candidate tasks finished"):
        files.metas()
    files.write_meta(1, 2, 0)
    assert [meta["docs"] for meta in files.metas()] == [5, 0]
    with pytest.raises(RunStateError) as error:
        files.read_meta(0, 3, "SelectFilter")
    assert str(error.value) == ("SelectFilter runs with 3 tasks but SelectCandidates ran with 2: both stages must use "
                                "the same task count (records are identified by rank and position)")
    with pytest.raises(RunStateError, match="ran with \\?"):
        files.read_meta(7, 2, "SelectFilter")


class KeepEven(PositionalFilter):
    """Drops the records at the positions a 'deciding stage' listed in decisions/<rank>.json."""

    name = "keep_even"

    def load_decisions(self, rank: int) -> None:
        self.dropped = set(json.loads(self.files.rank_file("decisions", rank, ".json").read_text()))

    def keep_at(self, position: int, doc: Document) -> bool | tuple[bool, str]:
        return (False, "odd_position") if position in self.dropped else True


def test_positional_filter_counts_and_writes_rejects_through_the_base(tmp_path):
    files = RankFiles(tmp_path / "work", first="decided", writer="Decider", noun="decision")
    docs = [Document(text=text, id=str(i), metadata={"lang": "swh_Latn"})
            for i, text in enumerate(["Habari", "Asante", "Karibu", "Pole", "Safari"])]
    files.write_meta(1, 2, len(docs))
    atomic_write_json(files.rank_file("decisions", 1, ".json"), [1, 3])
    rejects = JsonlWriter(str(tmp_path / "rejects"), output_filename="${rank}.jsonl.gz")
    step = KeepEven(files, SideOutputs(rejects=rejects))
    kept = [d.id for d in step.run(iter(docs), rank=1, world_size=2)]
    assert kept == ["0", "2", "4"]
    counters = {key: value.total for key, value in step.stats.stats.items()}
    assert counters["in/swh_Latn"] == 5 and counters["kept/swh_Latn"] == 3
    assert counters["dropped/swh_Latn/odd_position"] == 2
    rejected = [json.loads(line) for line in gzip.decompress((tmp_path / "rejects" / "00001.jsonl.gz").read_bytes()).splitlines()]
    assert [(r["id"], r["metadata"]["drop_stage"], r["metadata"]["drop_reason"]) for r in rejected] == [
        ("1", "keep_even", "odd_position"), ("3", "keep_even", "odd_position")]


def test_positional_filter_refuses_other_task_or_record_counts(tmp_path):
    files = RankFiles(tmp_path, first="decided", writer="Decider", noun="decision")
    docs = [Document(text=t, id=t) for t in ("a", "b", "c")]
    files.write_meta(0, 1, 2)
    atomic_write_json(files.rank_file("decisions", 0, ".json"), [])
    with pytest.raises(RunStateError, match="KeepEven runs with 2 tasks but Decider ran with 1"):
        list(KeepEven(files).run(iter(docs[:2]), rank=0, world_size=2))
    with pytest.raises(RunStateError, match=r"rank 0 has more records than Decider saw \(2\)"):
        list(KeepEven(files).run(iter(docs), rank=0, world_size=1))
    with pytest.raises(RunStateError, match="rank 0 has 1 records, Decider saw 2"):
        list(KeepEven(files).run(iter(docs[:1]), rank=0, world_size=1))


@pytest.mark.parametrize("module", ["workfiles.py", "positional.py"])
def test_the_kit_is_core(module):
    """curation/ may not lean on a wing: the kit imports nothing from filters/ or generators/."""
    tree = ast.parse((Path(__file__).parents[1] / "curation" / module).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.split(".")[0] in ("filters", "generators")}

"""How a benchmark writes its results: the JSON, and its figure beside it unless told where."""

from __future__ import annotations

import json

from benchmarks.results_files import write_results


def test_the_figure_goes_beside_the_json_unless_a_path_is_given(tmp_path, capsys):
    drawn = []
    write_results(tmp_path / "runs" / "latency.json", {"a": 1}, drawn.append)
    assert json.loads((tmp_path / "runs" / "latency.json").read_text()) == {"a": 1}
    assert drawn == [tmp_path / "runs" / "latency.png"]  # never the committed benchmarks/results figure
    write_results(tmp_path / "b.json", {}, drawn.append, tmp_path / "elsewhere.png")
    assert drawn[-1] == tmp_path / "elsewhere.png"
    write_results(tmp_path / "c.json", {})
    assert len(drawn) == 2 and "wrote" in capsys.readouterr().out

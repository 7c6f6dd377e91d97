"""`benchmarks.stride_fusion` runs end to end and writes its JSON (a short synthetic scene, no UTKinect)."""

import json

from benchmarks.stride_fusion import SETTINGS, main


def test_the_benchmark_writes_a_row_per_setting(tmp_path, capsys):
    out = tmp_path / "stride_fusion.json"
    assert main(["--data-root", str(tmp_path / "absent"), "--synthetic-people", "1", "--synthetic-seconds", "12",
                 "--json", str(out)]) == 0  # fmt: skip
    results = json.loads(out.read_text())
    assert len(results["rows"]) == len(SETTINGS) and results["settings"]["json"] == str(out)
    causal = [r for r in results["rows"] if (r["stride"], r["lookahead"]) == (1, 0)][0]
    assert 0 <= causal["frame_accuracy"] <= 1 and set(causal["time_to_detect"]) == {"label", "start"}
    assert "skipping UTKinect" in capsys.readouterr().err

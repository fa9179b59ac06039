"""The main job runs end to end (a short version) and learns."""

from adamx import demo


def test_demo_trains_every_method_and_writes_the_plot(tmp_path, capsys):
  results = demo.main(["--epochs", "3", "--out", str(tmp_path)])
  assert set(results) == set(demo.METHODS)
  for result in results.values():
    assert result["curve"][-1] < result["curve"][0]
  assert results["adam"]["accuracy"] > 0.85
  assert (tmp_path / "loss_curves.png").stat().st_size > 10_000
  assert "| method | final training loss | test accuracy | seconds |" in capsys.readouterr().out

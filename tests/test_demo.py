"""The main job runs end to end (a short version), learns, and explains itself."""

import shlex
import sys

import pytest

from adamx import demo


def test_demo_trains_every_method_and_writes_the_plot(tmp_path, capsys):
  results = demo.main(["--epochs", "3", "--out", str(tmp_path)])
  assert set(results) == set(demo.METHODS)
  for result in results.values():
    assert result["curve"][-1] < result["curve"][0]
  assert results["adam"]["accuracy"] > 0.85
  assert (tmp_path / "loss_curves.png").stat().st_size > 10_000
  out = capsys.readouterr().out
  assert "| method | final training loss | test accuracy | seconds |" in out
  assert "\r" not in out  # not a terminal: plain lines, one per method
  for name in demo.METHODS:
    assert f"\n  {name:<13} loss " in out


def test_progress_is_one_updating_line_per_method_on_a_terminal(tmp_path, monkeypatch, capsys):
  monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
  demo.main(["--epochs", "2", "--methods", "adam", "--out", str(tmp_path)])
  line = capsys.readouterr().out.split("\n")[1]  # splitlines() would split at \r too
  updates = line.split("\r")[1:]
  assert [update.split("loss")[0].split() for update in updates[:-1]] == [
      ["adam", "epoch", "1/2"], ["adam", "epoch", "2/2"]]
  assert "test accuracy" in updates[-1]


def test_method_names_are_plain_shell_words():
  for name in demo.METHODS:
    assert name and shlex.quote(name) == name


def test_help_documents_every_option(capsys):
  with pytest.raises(SystemExit) as stop:
    demo.main(["--help"])
  assert stop.value.code == 0
  out = capsys.readouterr().out
  for words in ("digits", "loss_curves.png", "seconds", "adamx[demo]"):
    assert words in out
  options = out.split("options:\n")[1].split("\n\n")[0]
  entries = ["  -" + entry for entry in ("\n" + options).split("\n  -")[1:]]
  flags = {entry.split()[0].rstrip(",") for entry in entries}
  assert {"-h", "--epochs", "--methods", "--out", "--seed"} <= flags
  for entry in entries:
    flag, _, text = entry.strip().partition("  ")
    text = " ".join(text.split())
    if not flag.startswith("-h"):
      assert "(default: " in text, entry
      assert len(text.split("(default: ")[0].split()) >= 4, entry


@pytest.mark.parametrize("module", ["sklearn", "matplotlib"])
def test_missing_demo_extra_stops_before_training_and_names_the_extra(
    module, tmp_path, monkeypatch, capsys):
  monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
  with pytest.raises(SystemExit) as stop:
    demo.main(["--out", str(tmp_path / "out")])
  assert "pip install 'adamx[demo]'" in str(stop.value.code)
  assert capsys.readouterr().out == ""
  assert not (tmp_path / "out").exists()

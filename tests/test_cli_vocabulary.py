"""The CLI speaks Python's vocabulary: --engine eager|manual|compiled (--compile and auto aliases), and its
help says what each command writes."""

from __future__ import annotations

import re

import pytest

from tinygrad_sine.cli import main


def _train(args, tmp_path, monkeypatch, capsys) -> str:
    monkeypatch.setattr("viz.plots.save_figures", lambda history, out: [])  # not under test
    code = main(["train", "--epochs", "3", "--interval", "1", "--out", str(tmp_path), *args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_engine_compiled_is_the_same_run_as_the_compile_alias(tmp_path, monkeypatch, capsys):
    by_name = _train(["--engine", "compiled"], tmp_path / "a", monkeypatch, capsys)
    by_alias = _train(["--compile"], tmp_path / "b", monkeypatch, capsys)
    lines = [re.findall(r"^(Epoch:.*|Training .*)$", out, re.M) for out in (by_name, by_alias)]
    assert lines[0] == lines[1] and len(lines[0]) == 4
    assert lines[0][0].endswith("engine compiled")


def test_help_lists_the_three_engines_and_the_alias(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0
    assert "{eager,manual,compiled,auto}" in text and "--compile same as --engine compiled" in text
    assert "auto: an old name for eager (default eager)" in text
    assert "--legacy-rng" in text


def test_graph_help_names_every_format_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    assert "to SVG" not in top
    assert re.search(r"graph .*\.svg, \.png, \.pdf or \.dot", top)
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(fmt in text for fmt in (".svg", ".png", ".pdf", ".dot"))


def test_engine_eager_is_the_default_and_auto_is_its_old_name(tmp_path, monkeypatch, capsys):
    default = _train([], tmp_path / "a", monkeypatch, capsys)
    eager = _train(["--engine", "eager"], tmp_path / "b", monkeypatch, capsys)
    auto = _train(["--engine", "auto"], tmp_path / "c", monkeypatch, capsys)
    lines = [re.findall(r"^(Epoch:.*|Training .*)$", out, re.M) for out in (default, eager, auto)]
    assert lines[0] == lines[1] == lines[2] and len(lines[0]) == 4
    assert lines[0][0].endswith("engine eager")


def test_train_takes_engine_eager_and_the_alias_auto_in_python():
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train

    runs = [train(SineNet(seed=1), epochs=2, interval=1, seed=1, engine=name)
            for name in ("eager", "auto")]
    assert runs[0].settings["engine"] == runs[1].settings["engine"] == "eager"
    assert runs[0].errors == runs[1].errors
    with pytest.raises(ValueError, match="engine must be one of eager, manual, compiled"):
        train(SineNet(seed=1), epochs=2, engine="automatic")

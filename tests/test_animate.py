"""viz.animate: the learning page's panels as a GIF; and train --animate."""

from __future__ import annotations

import pytest
from helpers import cli_here

from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import train
from viz import animate


@pytest.fixture(scope="module")
def history():
    return train(SineNet(seed=0), epochs=7, interval=3, engine="compiled")


def test_the_gif_has_the_frames_asked_for_at_the_size_asked_for(history, tmp_path):
    from PIL import Image

    seen = []
    path = animate(history, tmp_path / "learn.gif", frames=5, dpi=40,
                   progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 5
        assert gif.size == (400, 224)  # FIGSIZE (10 × 5.6 in) at 40 dpi
        gif.seek(4)
        assert gif.info["duration"] == 1500  # the file says: hold the last frame 1.5 s (no timing)
    assert len(history.frames) == 7  # so 5 of them were chosen (and train --animate, below,
    # asks for 100 of 3: it gets 3)


def test_a_bad_path_or_a_missing_ffmpeg_is_said_before_drawing(history, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        animate(history, tmp_path / "learn.avi")
    import viz.animation

    monkeypatch.setattr(viz.animation.shutil, "which", lambda name: None)
    with pytest.raises(ValueError, match="ffmpeg"):
        animate(history, tmp_path / "learn.mp4")
    with pytest.raises(ValueError, match="frames"):
        animate(history, tmp_path / "learn.gif", frames=0)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_animation_leaves_the_old_file_whole(history, tmp_path):
    path = tmp_path / "learn.gif"
    path.write_bytes(b"the old one")

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        animate(history, path, frames=4, dpi=20, progress=stop)
    assert path.read_bytes() == b"the old one"
    assert [p.name for p in tmp_path.iterdir()] == ["learn.gif"]  # no temporary file left


def test_train_animate_writes_learn_gif_and_learn_html_and_says_so(tmp_path):
    result = cli_here("train", "--epochs", "3", "--interval", "2", "--engine", "compiled",
                      "--animate", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"Page to watch it learn, epoch by epoch, written: {tmp_path / 'learn.html'}" in lines
    assert f"Animation written: {tmp_path / 'learn.gif'}" in lines
    progress = [line for line in lines if line.startswith(f"Writing {tmp_path / 'learn.gif'}")]
    assert progress[-1].endswith("frame 3 of 3") and 1 < len(progress) <= 5
    from PIL import Image

    with Image.open(tmp_path / "learn.gif") as gif:  # 100 frames asked for (the default) …
        assert gif.format == "GIF" and gif.n_frames == 3  # … but no more than the run has
    assert (tmp_path / "learn.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_still_is_one_frame_as_a_picture(history, tmp_path):
    from PIL import Image

    from viz.animation import still

    path = still(history, tmp_path / "last.png", dpi=20)
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.size == (200, 112)

"""``VideoRecorder`` writes GIFs and MP4s that decode to the frames it was given."""

from __future__ import annotations

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest

from render.record import VideoRecorder

SHADES = [(230, 159, 0), (0, 114, 178), (240, 240, 240), (20, 20, 20), (0, 158, 115)]


def solid_frames(height: int, width: int) -> list[np.ndarray]:
    frames = [np.empty((height, width, 3), dtype=np.uint8) for _ in SHADES]
    for frame, shade in zip(frames, SHADES):
        frame[:] = shade
    frames[0][: height // 2, : width // 3] = (213, 94, 0)  # not a solid frame: checks orientation
    return frames


def test_gif_decodes_to_the_same_frames(tmp_path):
    frames = solid_frames(48, 64)
    path = tmp_path / "nested" / "clip.gif"
    with VideoRecorder(path, fps=5) as recorder:
        for frame in frames:
            recorder.add_frame(frame)
    assert recorder.n_frames == len(frames)
    decoded = iio.imread(path, index=None)
    assert decoded.shape[:3] == (len(frames), 48, 64)
    np.testing.assert_array_equal(decoded[..., :3], np.stack(frames))  # few colours: GIF is lossless here


@pytest.mark.parametrize("height, width", [(48, 64), (47, 63)])
def test_mp4_decodes_to_the_expected_number_of_frames(tmp_path, height, width):
    frames = solid_frames(height, width) * 2
    path = tmp_path / "clip.mp4"
    with VideoRecorder(path, fps=10) as recorder:
        for frame in frames:
            recorder.add_frame(frame)
    with iio2.get_reader(path, format="FFMPEG") as reader:
        decoded = np.stack([frame for frame in reader.iter_data()])
    assert len(decoded) == len(frames)
    assert decoded.shape[1:] == (height + height % 2, width + width % 2, 3)  # odd sides padded to even
    # H.264 is lossy: compare the mean colour of the middle of each frame
    middle = decoded[:, height // 2 + 4 : height - 4, width // 2 : width - 4].reshape(len(frames), -1, 3).mean(axis=1)
    np.testing.assert_allclose(middle, np.array(SHADES * 2, dtype=float), atol=8)


def test_rejects_unknown_suffix_and_bad_fps(tmp_path):
    with pytest.raises(ValueError, match=r"\.gif"):
        VideoRecorder(tmp_path / "clip.avi")
    with pytest.raises(ValueError, match="fps"):
        VideoRecorder(tmp_path / "clip.gif", fps=0)


@pytest.mark.parametrize(
    "frame, match",
    [
        (np.zeros((8, 8), dtype=np.uint8), "height, width, 3"),
        (np.zeros((8, 8, 4), dtype=np.uint8), "height, width, 3"),
        (np.zeros((8, 8, 3), dtype=np.float32), "uint8"),
    ],
)
def test_rejects_frames_that_are_not_rgb_uint8(tmp_path, frame, match):
    with pytest.raises(ValueError, match=match):
        VideoRecorder(tmp_path / "clip.gif").add_frame(frame)


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_rejects_a_frame_of_another_size(tmp_path, suffix):
    recorder = VideoRecorder(tmp_path / f"clip{suffix}")
    recorder.add_frame(np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="first frame"):
        recorder.add_frame(np.zeros((8, 10, 3), dtype=np.uint8))
    recorder.abort()


def test_closing_without_frames_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "empty.gif"
    with pytest.raises(ValueError, match="no frames"):
        VideoRecorder(path).close()
    assert not path.exists()


def test_an_error_inside_the_with_block_leaves_no_partial_file(tmp_path):
    path = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError):
        with VideoRecorder(path) as recorder:
            recorder.add_frame(np.zeros((16, 16, 3), dtype=np.uint8))
            raise RuntimeError("policy crashed")
    assert not path.exists()
    with pytest.raises(ValueError, match="closed"):
        recorder.add_frame(np.zeros((16, 16, 3), dtype=np.uint8))

"""``VideoRecorder``: ``[height, width, 3]`` uint8 frames to an animated GIF or an MP4 through imageio.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "clip.gif"
    >>> with VideoRecorder(path, fps=5) as recorder:
    ...     for shade in (0, 128, 255):
    ...         recorder.add_frame(np.full((8, 8, 3), shade, dtype=np.uint8))
    >>> path.exists()
    True
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

FORMATS = (".gif", ".mp4")


class VideoRecorder:
    """Collect frames and write them to ``path``; the suffix picks the format (``.gif`` or ``.mp4``).

    A GIF keeps its frames in memory until ``close`` (the GIF encoder needs them all at once), so
    prefer MP4 for long recordings; MP4 frames are streamed to ffmpeg (H.264, from imageio-ffmpeg)
    as they arrive. H.264 needs even sides, so MP4 frames of odd size get one edge row or column
    repeated. Every frame must have the size of the first.

    Args:
        path: output file; its parent directories are created.
        fps: frames per second of the output.

    Raises:
        ValueError: on an unsupported suffix or a non-positive ``fps``.
    """

    def __init__(self, path: str | Path, fps: float = 10.0):
        self.path = Path(path)
        if self.path.suffix.lower() not in FORMATS:
            raise ValueError(f"video path must end in one of {FORMATS}, got {str(path)!r}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.fps = float(fps)
        self.n_frames = 0
        self._frame_shape: tuple[int, ...] | None = None
        self._gif_frames: list[np.ndarray] = []
        self._mp4_writer: Any = None
        self._closed = False

    @property
    def is_gif(self) -> bool:
        """Whether the output is a GIF (else MP4)."""
        return self.path.suffix.lower() == ".gif"

    def add_frame(self, frame: np.ndarray) -> None:
        """Append one ``[height, width, 3]`` uint8 frame (as returned by ``env.render()`` in ``rgb_array`` mode)."""
        if self._closed:
            raise ValueError(f"the recorder of {self.path} is closed")
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"a frame must be a [height, width, 3] uint8 array, got {frame.dtype} {frame.shape}")
        if self._frame_shape is None:
            self._frame_shape = frame.shape
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif frame.shape != self._frame_shape:
            raise ValueError(f"frame {self.n_frames} has shape {frame.shape}, the first frame had {self._frame_shape}")
        if self.is_gif:
            self._gif_frames.append(frame.copy())
        else:
            self._mp4().append_data(_even_sized(frame))
        self.n_frames += 1

    def close(self) -> Path:
        """Finish the file and return its path.

        Raises:
            ValueError: if no frame was added (an empty video cannot be written).
        """
        if self._closed:
            return self.path
        self._closed = True
        if self.n_frames == 0:
            raise ValueError(f"no frames were added; nothing to write to {self.path}")
        if self.is_gif:
            import imageio.v3 as iio

            # pillow counts GIF frame durations in milliseconds; loop=0 repeats forever
            iio.imwrite(self.path, np.stack(self._gif_frames), duration=1000.0 / self.fps, loop=0)
            self._gif_frames.clear()
        else:
            self._mp4_writer.close()
        return self.path

    def abort(self) -> None:
        """Stop without finishing the file; a partial MP4 is deleted."""
        self._closed = True
        self._gif_frames.clear()
        if self._mp4_writer is not None:
            self._mp4_writer.close()
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _mp4(self) -> Any:
        if self._mp4_writer is None:
            import imageio.v2 as iio2

            self._mp4_writer = iio2.get_writer(
                self.path,
                format="FFMPEG",
                fps=self.fps,
                codec="libx264",
                pixelformat="yuv420p",
                quality=8,  # 0-10; high, so grid edges and text stay sharp
                macro_block_size=1,  # no rescaling: _even_sized pads instead, keeping cells crisp
                # x264's default preset (medium) took 2.5x longer per frame (most of it flushing at the
                # end) for files only 15 % smaller (measured on 48 Battle frames, 640 x 720)
                ffmpeg_params=["-preset", "veryfast"],
            )
        return self._mp4_writer


def _even_sized(frame: np.ndarray) -> np.ndarray:
    """``frame`` with its last row and/or column repeated so that both sides are even."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")

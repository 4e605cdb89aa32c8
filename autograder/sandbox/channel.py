"""The grader's end of a worker's two pipes: frames out, lines in, each within a deadline.

Both ends are non-blocking, so a worker that stops reading or writing costs a timeout,
never a hang; a line is at most ``MAX_MESSAGE`` bytes, read in linear time with the
deadline checked while it streams in. Given the worker's pidfd, a read also ends when the
worker has exited, even if a process it left behind still holds its end of the pipe.
"""
from __future__ import annotations

import json
import os
import select
import time

MAX_MESSAGE = 256 * 2**20    # the largest line a worker may send


class Channel:
    """Writes frames (a 4-byte big-endian length, then JSON) to ``req_w``; reads the worker's
    lines from ``resp_r``. Both descriptors are non-blocking. ``exited`` (a pidfd of the
    worker's process, or None) becomes readable when the worker has exited."""

    def __init__(self, req_w: int, resp_r: int, exited: int | None = None):
        self.req_w, self.resp_r, self.exited = req_w, resp_r, exited
        self.buffer, self.read_at = bytearray(), 0

    def send(self, message, deadline: float) -> None:
        """Write one frame (a dict, or its JSON text) by ``deadline`` (else ``TimeoutError``)."""
        data = (message if isinstance(message, str) else json.dumps(message)).encode()
        view = memoryview(len(data).to_bytes(4, "big") + data)
        while view:
            try:
                view = view[os.write(self.req_w, view):]
            except BlockingIOError:
                gone, writable, _ = select.select(self._exit(), [self.req_w], [],
                                                  max(0.0, deadline - time.monotonic()))
                if gone and not writable:
                    raise BrokenPipeError("the worker has exited") from None
                if not writable:
                    raise TimeoutError from None

    def read_line(self, deadline: float) -> bytes:
        """The worker's next line: the deadline is checked at every read, even while a long
        line streams in, and each byte is scanned for the line's end once (linear time).
        ``EOFError`` when the worker is gone, ``ValueError`` for a line over ``MAX_MESSAGE``."""
        scanned, gone = self.read_at, False
        while (end := self.buffer.find(b"\n", scanned)) < 0:
            if self.read_at:                  # drop the lines already returned
                del self.buffer[:self.read_at]
                self.read_at = 0
            scanned = len(self.buffer)
            if time.monotonic() > deadline:
                raise TimeoutError
            try:
                chunk = os.read(self.resp_r, 1 << 20)
            except BlockingIOError:
                if gone:                              # exited, and all it wrote has been read
                    raise EOFError from None
                readable, _, _ = select.select([self.resp_r, *self._exit()], [], [],
                                               max(0.0, deadline - time.monotonic()))
                if not readable:
                    raise TimeoutError from None
                gone = self.resp_r not in readable    # the worker exited: read what is left, then stop
                continue
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if len(self.buffer) > MAX_MESSAGE:
                raise ValueError("too long a message")
        line = bytes(self.buffer[self.read_at:end])
        self.read_at = end + 1
        return line

    def _exit(self) -> list[int]:
        return [] if self.exited is None else [self.exited]

    def received_nothing(self) -> bool:
        return not self.buffer

    def close(self) -> None:
        for fd in (self.req_w, self.resp_r, *self._exit()):
            try:
                os.close(fd)
            except OSError:
                pass

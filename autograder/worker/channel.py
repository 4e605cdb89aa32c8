"""The worker's end of its two pipes: the grader's frames in, one JSON line per answer out.

A frame is a 4-byte big-endian length, then that many bytes of JSON (see :mod:`.main`).
"""
from __future__ import annotations

import json
import os


class Channel:
    """Reads the grader's frames from ``request_fd`` and answers on ``response_fd``.

    What it calls (``os.read``, ``os.write``, ``json`` ...) is bound when it is made, before
    any submitted code runs. Only the process that owns it answers (the worker, then each
    exercise's child, see :meth:`take_over`): a process the submission started exits instead.
    """

    def __init__(self, request_fd: int, response_fd: int):
        self.request_fd, self.response_fd = request_fd, response_fd
        self._dumps, self._loads = json.dumps, json.loads
        self._getpid, self._read, self._write, self.exit = os.getpid, os.read, os.write, os._exit
        self.owner = self._getpid()

    def take_over(self) -> int:
        """This process (a fresh exercise's child) answers from now on; its pid."""
        self.owner = self._getpid()
        return self.owner

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._write(self.response_fd, view):]

    def send_line(self, payload: dict) -> None:
        """``payload`` on a line of its own, whoever is writing."""
        self.send(("\n" + self._dumps(payload) + "\n").encode())

    def answer(self, payload: dict) -> None:
        if self._getpid() != self.owner:       # a process the submission started must never answer
            self.exit(0)
        self.send((self._dumps(payload) + "\n").encode())

    def read_exact(self, n: int) -> bytes:
        """``n`` bytes, never more: a forked child inherits the pipe. End of input ends the process."""
        chunks, left = [], n
        while left:
            chunk = self._read(self.request_fd, min(left, 1 << 20))
            if not chunk:
                self.exit(0)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read_message(self) -> dict:
        return self._loads(self.read_exact(int.from_bytes(self.read_exact(4), "big")))

    def callback(self, payload: dict) -> dict:
        """Ask the grader (about a façade's name, or to run a reference function) and wait."""
        self.answer({"status": "callback", **payload})
        return self.read_message()

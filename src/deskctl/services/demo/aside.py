"""Making the demo's batches in a child process while this one writes them.

Making a ticket's rows (stories, values, SLA facts) and writing them into the store
cost about the same CPU, so on two cores the two overlap. The child is a fork of
this process running the very same ``TicketMaker.batches`` generator, with the same
random generator in the same state, and sends each batch, in order, through a pipe;
the parent writes them as before. Nothing depends on the CPU count: the rows, their
order and the batches are those of the serial run (``tests/cli/test_demo_aside.py``
compares the stores). A pipe holds little, so the child is at most a batch or two
ahead and memory stays flat. An error in the child is raised in the parent; a parent
that stops reading (its load failed) ends the child.

The child makes each batch's ticket rows and SLA facts (all the random draws and most
of the CPU); the parent spells out the events and work log from the batch's recipes
(``TicketMaker.spell``) as it writes, which evens the two processes out and sends a
quarter of the bytes. A batch travels as plain values through ``marshal``, about
twice as fast as pickling them. After the last batch the child computes the tickets'
comeback links (``links``) and sends them last, while the parent builds indexes.

Both processes make and drop millions of tuples and lists that hold no cycles, and
each of Python's full collections walks every object the process keeps (the stories,
the caches, the ORM's modules): a third of the cost of making and reading batches.
So the cycle collector is off while the tickets are made and written (``without_gc``;
reference counting still frees every batch).
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from deskctl.services.demo.links import Links
from deskctl.services.demo.maker import Batch


class MadeAside:
    """The batches of ``batches``, made in a forked child (started right away), then
    what ``last`` returns there once they are all made."""

    def __init__(self, batches: Iterator[Batch], last: Callable[[], Links]) -> None:
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        self._child = context.Process(target=_produce, args=(batches, last, writer), daemon=True)
        self._child.start()
        writer.close()  # the parent's copy: the pipe ends when the child's closes

    def __iter__(self) -> Iterator[Batch]:
        while True:
            kind, payload = self._receive()
            if kind == _DONE:
                return
            yield Batch(*marshal.loads(payload))

    def links(self) -> Links:
        """The links, once every batch is read."""
        kind, payload = self._receive()
        if kind != _LINKS:
            raise RuntimeError("demo: the process making the tickets sent no links")
        return Links.loads(payload)

    def _receive(self) -> tuple[bytes, bytes]:
        try:
            message = self._reader.recv_bytes()
        except EOFError:
            raise RuntimeError("demo: the process making the tickets died") from None
        kind, payload = message[:1], message[1:]
        if kind == _ERROR:
            raise pickle.loads(payload)
        return kind, payload

    def close(self) -> None:
        self._reader.close()
        if self._child.is_alive():
            self._child.terminate()
        self._child.join()


# the first byte of each message; _DONE: no more batches
_BATCH, _DONE, _LINKS, _ERROR = b"B", b"D", b"L", b"E"


@contextmanager
def without_gc() -> Iterator[None]:
    """The cycle collector off inside (see module doc), as it was after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _produce(batches: Iterator[Batch], last: Callable[[], Links], writer: Any) -> None:
    try:
        for batch in batches:
            writer.send_bytes(_BATCH + marshal.dumps(batch.fields()))
        writer.send_bytes(_DONE)
        writer.send_bytes(_LINKS + last().dumps())
    except BrokenPipeError:  # the parent stopped reading
        return
    except BaseException as exc:  # handed to the parent, which reports it
        writer.send_bytes(_ERROR + pickle.dumps(_portable(exc)))
    finally:
        writer.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc

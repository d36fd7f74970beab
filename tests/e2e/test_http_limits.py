"""Slow and idle HTTP connections are cut by coffer dev's deadlines while real clients are served."""
import socket
import time
import urllib.parse

from conftest import start_coffer


def connect(endpoint):
    url = urllib.parse.urlparse(endpoint)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    sock.setblocking(False)
    return sock


def closed(sock):
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_idle_and_trickling_connections_are_closed_while_clients_are_served():
    server = start_coffer("--ephemeral", "--idle-timeout", "2", "--read-timeout", "1")
    try:
        endpoint = server.exports["AWS_ENDPOINT_URL_KMS"]
        idle = [connect(endpoint) for _ in range(100)]
        header = [connect(endpoint) for _ in range(40)]
        body = [connect(endpoint) for _ in range(40)]
        for sock in body:
            sock.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
        kms = server.client(region="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        started = time.monotonic()
        served = 0
        while time.monotonic() - started < 4:
            for sock in header:  # a header, one byte at a time, never finished
                try:
                    sock.send(b"X")
                except OSError:
                    pass
            blob = kms.encrypt(KeyId=key, Plaintext=b"still served")["CiphertextBlob"]
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still served"
            served += 1
            time.sleep(0.2)
        assert served >= 5
        # Past --idle-timeout (2 s) and --read-timeout (1 s), with slack: every stranger is gone.
        deadline = time.monotonic() + 5
        remaining = idle + header + body
        while remaining and time.monotonic() < deadline:
            remaining = [sock for sock in remaining if not closed(sock)]
            time.sleep(0.1)
        assert not remaining, "%d slow or idle connections are still open" % len(remaining)
        for sock in idle + header + body:
            sock.close()
    finally:
        server.stop()

"""`coffer host` refuses to serve plain HTTP beyond loopback unless told it sits behind a TLS proxy."""
import subprocess

import pytest

from conftest import COFFER_BIN

DUMMY = ["--hsm", "127.0.0.1:1", "--host-id", "h", "--host-key", "missing.pem", "--genesis", "00",
         "--credentials", "missing.json"]


@pytest.mark.parametrize("listen", ["0.0.0.0:4599", "10.0.0.5:4599", "[::]:4599", "example.com:443"])
def test_plain_http_beyond_loopback_is_refused(listen, tmp_path):
    done = subprocess.run([COFFER_BIN, "host", "--listen", listen, *DUMMY], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 64, done
    assert "is not a loopback address" in done.stderr and "--insecure-http" in done.stderr


@pytest.mark.parametrize("args", [["--listen", "127.0.0.1:0"], ["--listen", "localhost:0"],
                                  ["--listen", "0.0.0.0:0", "--insecure-http"]])
def test_loopback_or_an_explicit_choice_gets_past_the_check(args, tmp_path):
    # The dummy genesis then fails: what matters is that the listen check let it through.
    done = subprocess.run([COFFER_BIN, "host", *args, *DUMMY], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert "is not a loopback address" not in done.stderr, done
    assert "genesis" in done.stderr, done

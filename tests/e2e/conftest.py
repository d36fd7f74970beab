"""Shared helpers of the end-to-end suite: real `coffer dev` processes on a free loopback port, boto3
clients for them, raw SigV4-signed requests (for bodies boto3 will not send) and the dev reset call.

Every test module gets its own server (module-scoped `coffer`); tests that need special start options
(a seed file, a persistent data directory, two accounts) start their own with `start_coffer`.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import pytest

COFFER_BIN = os.environ.get("COFFER_BIN", "/work/main/.build/debug/coffer")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

#: A UUID no test ever creates.
MISSING_KEY = "11111111-1111-1111-1111-111111111111"


class CofferServer:
    """One running `coffer dev` process and what its `export …` line says."""

    def __init__(self, process, log_path, exports, workdir, cwd, owns_workdir=False):
        self.process = process
        self.owns_workdir = owns_workdir
        self.log_path = log_path
        self.exports = exports
        self.workdir = workdir
        self.cwd = cwd
        self.endpoint = exports["AWS_ENDPOINT_URL_KMS"]
        self.access_key = exports["AWS_ACCESS_KEY_ID"]
        self.secret_key = exports["AWS_SECRET_ACCESS_KEY"]
        self.region = exports["AWS_DEFAULT_REGION"]

    def log(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def env(self, **extra):
        """An environment for a subprocess (the AWS CLI) that talks to this server and nothing else."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.exports)
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        env["AWS_PAGER"] = ""
        env.update(extra)
        return env

    def client(self, region=None, validate=True, access_key=None, secret_key=None, config=None):
        """A boto3 KMS client of this server: another `region`, other credentials, or (validate=False, or a
        `config` of botocore.config.Config(parameter_validation=False)) without botocore's parameter
        validation so out-of-range values reach the server. No retries: every call is one request."""
        base = botocore.config.Config(
            parameter_validation=validate, retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=5, read_timeout=30)
        config = base.merge(config) if config is not None else base
        return boto3.client(
            "kms", endpoint_url=self.endpoint, region_name=region or self.region,
            aws_access_key_id=access_key or self.access_key, aws_secret_access_key=secret_key or self.secret_key,
            config=config)

    def stop(self):
        """SIGINT, as Ctrl-C; the process must end by itself. Removes the temp dir start_coffer made."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
                    raise AssertionError("coffer dev did not stop on SIGINT within %ss:\n%s"
                                         % (STOP_TIMEOUT, self.log()))
        finally:
            if self.owns_workdir and not os.environ.get("COFFER_E2E_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)


def start_coffer(*args, cwd=None, workdir=None):
    """Starts `coffer dev --port 0 ARGS` (in `cwd`, default a new temp dir) and waits for its `export` line.
    The log lives in `workdir` (a new temp dir unless given, removed by stop()), never in `cwd`."""
    owns_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="coffer-e2e-")
    cwd = cwd or workdir
    log_path = os.path.join(workdir, "dev-%d.log" % time.monotonic_ns())
    log = open(log_path, "w")
    process = subprocess.Popen([COFFER_BIN, "dev", "--port", "0", *args], stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, cwd=cwd)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT
    exports = None
    while time.monotonic() < deadline:
        with open(log_path, errors="replace") as handle:
            text = handle.read()
        for line in text.splitlines(keepends=True):
            if line.startswith("export ") and line.endswith("\n"):
                exports = dict(item.split("=", 1) for item in line[len("export "):].split())
        if exports and "AWS_ENDPOINT_URL_KMS" in exports:
            return CofferServer(process, log_path, exports, workdir, cwd, owns_workdir)
        if process.poll() is not None:
            pytest.fail("coffer dev %s exited with %s before serving:\n%s" % (" ".join(args), process.returncode, text))
        time.sleep(0.05)
    process.kill()
    process.wait()
    with open(log_path, errors="replace") as handle:
        pytest.fail("coffer dev %s printed no export line within %ss:\n%s" % (" ".join(args), START_TIMEOUT,
                                                                            handle.read()))


def run_coffer_to_exit(*args, cwd=None, timeout=30):
    """Runs `coffer dev ARGS` expecting it to exit by itself (a refused start); returns (code, output). A crash
    is reported by its signal (a negative code) without the slow Swift backtrace."""
    env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
    scratch = None if cwd else tempfile.mkdtemp(prefix="coffer-e2e-")
    try:
        done = subprocess.run([COFFER_BIN, "dev", "--port", "0", *args], cwd=cwd or scratch, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, env=env)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return done.returncode, done.stdout + done.stderr


# MARK: Raw signed requests

def signed_call(server, target, body, region=None, access_key=None, secret_key=None,
                content_type="application/x-amz-json-1.1"):
    """POSTs `body` (bytes, str, or a JSON-able value) to the server with `X-Amz-Target: target`, signed
    with SigV4 (service "kms"). Returns (status, headers, parsed JSON body or None)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    headers = {"Content-Type": content_type, "X-Amz-Target": target}
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    credentials = botocore.credentials.Credentials(access_key or server.access_key, secret_key or server.secret_key)
    botocore.auth.SigV4Auth(credentials, "kms", region or server.region).add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(prepared.url, data=body, method="POST", headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(http, timeout=30) as response:
            status, answer, raw = response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as failure:
        status, answer, raw = failure.code, dict(failure.headers.items()), failure.read()
    return status, answer, (json.loads(raw) if raw else None)


def raw_kms(server, operation, body, **kwargs):
    """A raw signed call of a KMS operation (`TrentService.<operation>`)."""
    return signed_call(server, "TrentService." + operation, body, **kwargs)


def reset(server, reseed=False, **kwargs):
    """The signed `CofferDev.Reset` call: deletes every key (and re-applies the seed with reseed=True).
    Returns (status, headers, body)."""
    return signed_call(server, "CofferDev.Reset", {"Reseed": True} if reseed else {}, **kwargs)


def assert_raw_error(answer, code, status, message=None):
    """`answer` (from `signed_call`) is the AWS error `code` with HTTP `status`; its message fully matches
    the regex `message` when given."""
    __tracebackhide__ = True
    got_status, headers, body = answer
    assert got_status == status, answer
    assert body and body.get("__type", "").split("#")[-1] == code, answer
    error_type = {k.lower(): v for k, v in headers.items()}.get("x-amzn-errortype", "")
    assert error_type.split(":")[0] == code, answer
    if message is not None:
        text = body.get("message", body.get("Message", ""))
        assert re.fullmatch(message, text), "message %r does not match %r" % (text, message)
    return body


# MARK: boto3 errors

def expect_error(code, call, *args, status=None, message=None, **kwargs):
    """Calls `call(**kwargs)` expecting the AWS error `code`, answered with HTTP `status` (400 unless the
    code is one of AWS's 500s or the dry-run 412), and, when given, a message fully matching the regex
    `message`. Returns the error response."""
    __tracebackhide__ = True
    if status is None:
        status = {"DryRunOperationException": 412, "KMSInternalException": 500, "DependencyTimeoutException": 500,
                  "KeyUnavailableException": 500}.get(code, 400)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    if message is not None:
        text = response["Error"].get("Message", "")
        assert re.fullmatch(message, text), "message %r does not match %r" % (text, message)
    return response


def validation_message(value, member, constraint):
    """AWS's one-violation ValidationException message, as a regex."""
    return re.escape("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s"
                     % (value, member, constraint))


def key_arn(server, key_id, region=None, account="000000000000"):
    return "arn:aws:kms:%s:%s:key/%s" % (region or server.region, account, key_id)


def alias_arn(server, name, region=None, account="000000000000"):
    return "arn:aws:kms:%s:%s:%s" % (region or server.region, account, name)


# MARK: Processes of a deployment (coffer hsm, coffer host, the operator tools)

class Processes:
    """Coffer processes started in one folder (`dir`), as an operator starts them: each with its output in a
    log, waited for until it prints what says it serves, and stopped at the end."""

    def __init__(self, prefix):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        self.processes = []

    def spawn(self, args, log):
        """Starts `coffer ARGS` with its output in `log` (a path)."""
        with open(log, "w") as handle:
            process = subprocess.Popen([COFFER_BIN, *args], cwd=self.dir, stdout=handle, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def wait_for(self, log, pattern, process, timeout=30):
        """The first match of `pattern` in `log`; fails loudly when the process exits or the time is up."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            with open(log, errors="replace") as handle:
                text = handle.read()
            found = re.search(pattern, text)
            if found:
                return found
            if process.poll() is not None:
                pytest.fail("%s exited with %s:\n%s" % (process.args, process.returncode, text))
            time.sleep(0.05)
        pytest.fail("%s printed no %r within %s s:\n%s" % (process.args, pattern, timeout, text))

    def run(self, *args):
        """Runs `coffer ARGS` to completion in the folder; its standard output (it must succeed)."""
        done = subprocess.run([COFFER_BIN, *args], cwd=self.dir, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def approve(self, command, state=None, signers=("alice", "bob")):
        """Each of `signers` signs the command file (`coffer command sign`), against `state` when given."""
        for who in signers:
            self.run("command", "sign", command, "--key", who + ".pem", *(["--state", state] if state else []))

    def add_admin(self, store, hsm, genesis, account, host="host-1"):
        """An admin principal (identity policy kms:*) in a host's `store`, sealed through `hsm` as `host`; sets
        and returns (access_key, secret_key)."""
        with open(os.path.join(self.dir, "admin.json"), "w") as handle:
            json.dump({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}, handle)
        admin = json.loads(self.run(
            "principals", "add", "admin", "--policy", "admin.json", "--account-id", account, "--store", store,
            "--hsm", hsm, "--host-id", host, "--host-key", host + ".pem", "--genesis", genesis, "--json"))
        self.access_key, self.secret_key = admin["AccessKeyId"], admin["SecretAccessKey"]
        return self.access_key, self.secret_key

    def stop_all(self):
        """SIGTERM to every process still running (killed if it does not stop within 20 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# MARK: Fixtures

#: A PostgreSQL server (its URL) to run the shared servers' stores on instead of memory: scripts/test runs
#: the suite's store-backed modules a second time with it.
POSTGRES = os.environ.get("COFFER_E2E_POSTGRES")


def postgres_database():
    """A new empty database on the POSTGRES server; its URL."""
    name = "coffer_e2e_%d_%d" % (os.getpid(), time.monotonic_ns())
    done = subprocess.run(["psql", POSTGRES.split("?")[0], "-q", "-c", "CREATE DATABASE %s" % name],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    base, _, query = POSTGRES.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


def store_args():
    """The start options of a shared server's store: in memory, or a fresh PostgreSQL database."""
    if not POSTGRES:
        return ["--ephemeral"]
    return ["--data-dir", tempfile.mkdtemp(prefix="coffer-e2e-data-"), "--store", postgres_database()]


@pytest.fixture(scope="module")
def coffer():
    """A `coffer dev --allow-reset` for the module: ephemeral, or on PostgreSQL (COFFER_E2E_POSTGRES)."""
    server = start_coffer(*store_args(), "--allow-reset")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kms(coffer):
    """A boto3 KMS client of the module's server, in its default region."""
    return coffer.client()


@pytest.fixture(scope="module")
def make_client(coffer):
    """A factory of clients of the module's server: `make_client(region=…, validate=False, …)`."""
    return coffer.client


@pytest.fixture(scope="module")
def raw_kms_client(coffer):
    """A boto3 client that sends what it is given (no parameter validation)."""
    return coffer.client(validate=False)

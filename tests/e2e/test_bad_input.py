"""The bad-input table (issue 13): every kind of malformed, mistyped, oversized, misaddressed or misbehaving
request a client can send, sent to a running `coffer dev --ephemeral`, with Coffer's answer recorded next to
AWS's where botocore's model or AWS's documentation states it.

Each row is run once against one module-scoped server (transport cases against a second one started with
`--idle-timeout 2 --read-timeout 1`). A row fails when Coffer answers a 500 or drops the connection (unless a
closed connection is the row's expected outcome), or differs from a known AWS answer.

The rows are written to docs/bad-input.md with UPDATE_BAD_INPUT=1; otherwise the committed file must equal
what this run produced, so the document cannot go stale:

    COFFER_BIN=.build/debug/coffer UPDATE_BAD_INPUT=1 python3 -m pytest -q tests/e2e/test_bad_input.py
"""
import base64
import concurrent.futures
import copy
import dataclasses
import datetime
import difflib
import http.client
import json
import os
import re
import socket
import time
import typing
import unittest.mock
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
import pytest

from conftest import start_coffer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(ROOT, "docs", "bad-input.md")
REGISTRY = os.path.join(ROOT, "Sources", "CofferKMS", "Pipeline", "KMSRegistry.swift")
MODEL = botocore.session.get_session().get_service_model("kms")
UPDATE = os.environ.get("UPDATE_BAD_INPUT") == "1"

JSON_TYPE = "application/x-amz-json-1.1"
OTHER_ACCOUNT = "111122223333"
OTHER_REGION = "eu-west-1"
IDLE_TIMEOUT, READ_TIMEOUT = 2.0, 1.0  # the transport server's --idle-timeout and --read-timeout
SLACK = 1.5  # how late past a limit a close still counts as "within the limit" on a busy machine
ROOT_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
    "Action": "kms:*", "Resource": "*"}]})

#: Where an AWS answer in the table comes from (the table's footnote marks).
SOURCES = {
    "m": "botocore's KMS model: the member is required, or the value is outside the member's length or range "
         "constraint. KMS's name for such a refusal is `ValidationException` (the model's documentation uses it "
         "for a value that fails validation), a client error, HTTP 400.",
    "p": "the model's documentation of `Policy` (CreateKey, PutKeyPolicy): \"If the key policy exceeds the length "
         "constraint, KMS returns a LimitExceededException\"; the key policy quota is 32 KiB (KMS Developer "
         "Guide, Quotas).",
    "s": "KMS Developer Guide, \"Key states of AWS KMS keys\": a Disabled key refuses these operations with "
         "`DisabledException`, a PendingDeletion key (and CancelKeyDeletion of a key not pending deletion) with "
         "`KMSInvalidStateException`.",
    "n": "keys and aliases belong to one account and one Region; the model lists `NotFoundException` (\"the "
         "specified entity or resource could not be found\") for the operation.",
    "c": "AWS's Common Errors list, as the API references of AWS services print it (e.g. RDS, CloudSearch, "
         "Secrets Manager; KMS's own copy was not at hand): `IncompleteSignature`, \"the request signature does "
         "not conform to AWS standards\", HTTP 400; `MissingAuthenticationToken`, \"the request must contain "
         "either a valid (registered) AWS access key ID or X.509 certificate\", HTTP 403. The names are given "
         "as AWS JSON services send them (with `Exception`).",
}


def served_operations():
    with open(REGISTRY) as handle:
        text = handle.read()
    body = text[text.index("operations: [any KMSOperation.Type] = ["):]
    body = re.sub(r"//[^\n]*", "", body[:body.index("]\n")])
    return re.findall(r"\b([A-Z][A-Za-z]+)\.self\b", body)


OPERATIONS = served_operations()


def b64(data):
    return base64.b64encode(data).decode()


# MARK: Answers

@dataclasses.dataclass
class Outcome:
    """What Coffer did with one row's input."""
    status: typing.Optional[int] = None  # HTTP status; None when no answer came
    name: str = ""  # the error's __type (without a namespace), "" on success or without a JSON body
    message: str = ""
    closed: bool = False  # the connection ended without an answer
    elapsed: float = 0.0  # for a closed connection: seconds from connect until it was closed
    note: str = ""


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{8}T\d{6}Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def clean(message):
    """A message as the table shows it: key ids and times replaced, one line, at most 100 characters."""
    text = STAMP.sub("<time>", UUID.sub("<key-id>", message))
    text = " ".join(text.split())
    return text[:100]


def answer_of(status, raw):
    outcome = Outcome(status=status)
    if not raw:
        return outcome
    try:
        body = json.loads(raw)
    except ValueError:
        outcome.message = "(a body that is not JSON)"
        return outcome
    if isinstance(body, dict) and "__type" in body:
        outcome.name = str(body["__type"]).split("#")[-1]
        outcome.message = str(body.get("message", body.get("Message", "")))
    return outcome


def http_exchange(endpoint, method, path, body, headers, timeout=20.0):
    """One HTTP/1.1 exchange on a new connection; a connection that ends without an answer is `closed`."""
    url = urllib.parse.urlparse(endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    started = time.monotonic()
    try:
        try:
            connection.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (a 413) before it read everything; the answer is still there to read
        response = connection.getresponse()
        return answer_of(response.status, response.read())
    except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as failure:
        return Outcome(closed=True, elapsed=time.monotonic() - started, note=type(failure).__name__)
    finally:
        connection.close()


def encode(body):
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def send_signed(server, target, body, region=None, service="kms", sign_target=True, target_header=True,
                content_type=JSON_TYPE, secret_key=None, access_key=None, skew=0, method="POST", path="/",
                drop=()):
    """Signs with botocore's SigV4Auth and sends the body as given: malformed bodies reach the server.
    sign_target=False adds X-Amz-Target after signing (so it is not among the SignedHeaders); skew moves
    the signing clock; `drop` removes headers after signing."""
    data = encode(body)
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if target_header and sign_target and target is not None:
        headers["X-Amz-Target"] = target
    request = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=data, headers=headers)
    credentials = botocore.credentials.Credentials(access_key or server.access_key, secret_key or server.secret_key)
    signer = botocore.auth.SigV4Auth(credentials, service, region or server.region)
    if skew:
        real = botocore.auth.get_current_datetime
        with unittest.mock.patch.object(botocore.auth, "get_current_datetime", lambda: real() + skew):
            signer.add_auth(request)
    else:
        signer.add_auth(request)
    prepared = dict(request.prepare().headers.items())
    if target_header and not sign_target and target is not None:
        prepared["X-Amz-Target"] = target
    for name in drop:
        prepared.pop(name, None)
    return http_exchange(server.endpoint, method, path, data, prepared)


def send_unsigned(server, target, body):
    return http_exchange(server.endpoint, "POST", "/", encode(body),
                         {"Content-Type": JSON_TYPE, "X-Amz-Target": target})


def kms(operation, body, **options):
    """A row's run: the signed operation with `body` (a value, or a function of the World)."""
    def run(world):
        value = body(world) if callable(body) else body
        return send_signed(world.main, "TrentService." + operation, value, **options)
    return run


# MARK: Keys in the states the rows need

class World:
    """The two servers and what the rows need on them; keys are made per row or per operation, so no row's
    outcome depends on another's."""

    def __init__(self, main, slow):
        self.main, self.slow = main, slow
        self.client = main.client()
        self.per_operation = {}

    def key(self, region=None, description="bad-input"):
        client = self.client if region is None else self.main.client(region=region)
        return client.create_key(Description=description)["KeyMetadata"]["KeyId"]

    def blob(self, key):
        return b64(self.client.encrypt(KeyId=key, Plaintext=b"bad input")["CiphertextBlob"])

    def disabled(self):
        key = self.key(description="a disabled key")
        blob = self.blob(key)
        self.client.disable_key(KeyId=key)
        return key, blob

    def pending(self):
        key = self.key(description="a key pending deletion")
        blob = self.blob(key)
        self.client.create_alias(AliasName="alias/bad-input-pending-" + key[:8], TargetKeyId=key)
        self.client.tag_resource(KeyId=key, Tags=[{"TagKey": "t", "TagValue": "v"}])
        self.client.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        return key, blob

    def alias(self, name, key):
        self.client.create_alias(AliasName=name, TargetKeyId=key)
        return name

    def bystander(self):
        """An enabled key with an alias and a ciphertext: the other party of the key-state rows."""
        if "bystander" not in self.per_operation:
            key = self.key(description="a bystander")
            self.per_operation["bystander"] = {"key": key, "blob": self.blob(key),
                                               "alias": self.alias("alias/bad-input-bystander", key)}
        return self.per_operation["bystander"]

    def arn(self, key, region=None, account="000000000000"):
        return "arn:aws:kms:%s:%s:key/%s" % (region or self.main.region, account, key)

    def for_operation(self, operation):
        """An enabled key, a ciphertext under it and an alias on it, for the type and missing-member rows of one
        operation."""
        if operation not in self.per_operation:
            key = self.key(description="types of " + operation)
            alias = self.alias("alias/bad-input-" + operation.lower(), key)
            self.client.tag_resource(KeyId=key, Tags=[{"TagKey": "t", "TagValue": "v"}])
            self.per_operation[operation] = {"key": key, "blob": self.blob(key), "alias": alias}
        return self.per_operation[operation]


# MARK: Rows

@dataclasses.dataclass
class Case:
    group: str
    input: str  # what is sent, described by role (no ids)
    sent_as: str
    run: typing.Callable[[World], Outcome]
    aws: typing.Optional[typing.Tuple[str, typing.Optional[int]]] = None  # (name, status or None if unstated)
    source: str = ""  # a key of SOURCES
    close: typing.Any = None  # None: must answer; "may": closing is acceptable; a number: must close within it
    want_status: typing.Optional[int] = None  # Coffer's own stated answer (issue 13), checked like AWS's
    transport: bool = False  # runs against the short-timeout server, concurrently with the others


SIGNED = "signed POST"
CASES = []


def add(*args, **kwargs):
    CASES.append(Case(*args, **kwargs))


VALIDATION = ("ValidationException", 400)


def base_body(operation, world):
    """A valid request of `operation`: its required members (and a ciphertext where one is needed)."""
    it = world.for_operation(operation)
    key, blob, alias = it["key"], it["blob"], it["alias"]
    return {
        "CreateKey": {},
        "ListKeys": {},
        "ListAliases": {},
        "GenerateRandom": {"NumberOfBytes": 8},
        "UpdateKeyDescription": {"KeyId": key, "Description": "d"},
        "Encrypt": {"KeyId": key, "Plaintext": b64(b"x")},
        "Decrypt": {"CiphertextBlob": blob},
        "ReEncrypt": {"CiphertextBlob": blob, "DestinationKeyId": key},
        "GenerateDataKey": {"KeyId": key, "KeySpec": "AES_256"},
        "GenerateDataKeyWithoutPlaintext": {"KeyId": key, "KeySpec": "AES_256"},
        "CreateAlias": {"AliasName": "alias/bad-input-new", "TargetKeyId": key},
        "UpdateAlias": {"AliasName": alias, "TargetKeyId": key},
        "DeleteAlias": {"AliasName": alias},
        "TagResource": {"KeyId": key, "Tags": [{"TagKey": "t", "TagValue": "v"}]},
        "UntagResource": {"KeyId": key, "TagKeys": ["t"]},
        "PutKeyPolicy": {"KeyId": key, "Policy": ROOT_POLICY},
    }.get(operation, {"KeyId": key})


def sample(shape):
    """A valid value of `shape` (for the containers around a member under test)."""
    kind = shape.type_name
    if kind == "structure":
        return {name: sample(member) for name, member in shape.members.items()}
    if kind == "list":
        return [sample(shape.member)]
    if kind == "map":
        return {"k": sample(shape.value)}
    if kind == "blob":
        return b64(b"x")
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind == "boolean":
        return False
    if shape.enum:
        return shape.enum[0]
    return "x" * max(1, shape.metadata.get("min", 1))


VALUE = object()  # a path step: the value of a map's one entry


def member_paths(shape, prefix=()):
    """(path, shape) of every member under `shape`: list elements as [0], map values as the value of one entry."""
    for name, member in shape.members.items():
        path = prefix + (name,)
        yield path, member
        if member.type_name == "structure":
            yield from member_paths(member, path)
        elif member.type_name == "list":
            yield path + (0,), member.member
            if member.member.type_name == "structure":
                yield from member_paths(member.member, path + (0,))
        elif member.type_name == "map":
            yield path + (VALUE,), member.value


def shape_at(shape, path):
    for step in path:
        if step == 0:
            shape = shape.member
        elif step is VALUE:
            shape = shape.value
        else:
            shape = shape.members[step]
    return shape


def with_value(body, top, path, value):
    """`body` with the member at `path` set to `value`, its containers filled in with valid values."""
    body = copy.deepcopy(body)
    node, shape = body, top
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if step == 0:
            shape = shape.member
            if last:
                node[0] = value
            else:
                node = node[0]
        elif step is VALUE:
            shape = shape.value
            if last:
                node["k"] = value
            else:
                node = node["k"]
        else:
            shape = shape.members[step]
            if last:
                node[step] = value
            else:
                if not isinstance(node.get(step), (dict, list)):
                    node[step] = sample(shape)
                node = node[step]
    return body


def without(body, top, path):
    """`body` without the member at `path` (its containers filled in)."""
    body = with_value(body, top, path, None)
    node = body
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return body


def path_text(path):
    text = ""
    for step in path:
        text += "[0]" if step == 0 else "{\"k\": …}" if step is VALUE else ("." if text else "") + step
    return text


#: Wrong JSON types by the member's type: (value, what it is).
WRONG = {
    "string": [(5, "number where string"), ({}, "object where string"), ([], "list where string")],
    "blob": [(5, "number where base64 blob"), ({}, "object where blob"), ([], "list where blob")],
    "integer": [("5", "string where integer"), (True, "`true` where integer")],
    "long": [("5", "string where integer"), (True, "`true` where integer")],
    "boolean": [(0, "`0` where boolean"), (1, "`1` where boolean")],
    "timestamp": [("x", "string where timestamp"), (True, "`true` where timestamp"), ([], "list where timestamp")],
    "list": [("x", "string where list"), ({}, "object where list")],
    "map": [([], "list where map"), ("x", "string where map")],
    "structure": [("x", "string where structure"), ([], "list where structure")],
}


def typed_body(operation, path, value):
    def body(world):
        return with_value(base_body(operation, world), MODEL.operation_model(operation).input_shape, path, value)
    return body


def missing_body(operation, path):
    def body(world):
        return without(base_body(operation, world), MODEL.operation_model(operation).input_shape, path)
    return body


# 1. Malformed JSON
for text, body in [
    ("truncated object `{\"Limit\": 5`", b'{"Limit": 5'),
    ("truncated inside a string `{\"Marker\": \"ab`", b'{"Marker": "ab'),
    ("a lone `{`", b"{"),
    ("trailing garbage after the object `{} x`", b"{} x"),
    ("two objects `{}{}`", b"{}{}"),
    ("a trailing comma `{\"Limit\": 5,}`", b'{"Limit": 5,}'),
    ("single-quoted names `{'Limit': 5}`", b"{'Limit': 5}"),
    ("a JSON array `[]` instead of an object", b"[]"),
    ("a JSON string instead of an object", b'"ListKeys"'),
    ("a JSON number instead of an object", b"5"),
    ("`null` instead of an object", b"null"),
    ("`true` instead of an object", b"true"),
    ("a duplicate member `{\"Limit\": 5, \"Limit\": 6}`", b'{"Limit": 5, "Limit": 6}'),
    ("a duplicate unknown member `{\"X\": 1, \"X\": 1}`", b'{"X": 1, "X": 1}'),
    ("arrays nested 33 deep in an unknown member", b'{"X": ' + b"[" * 33 + b"]" * 33 + b"}"),
    ("arrays nested 100,000 deep", b"[" * 100000),
    ("objects nested 40 deep", b'{"a": ' * 40 + b"1" + b"}" * 40),
    ("invalid UTF-8 (byte FF) in a string", b'{"Marker": "\xff"}'),
    ("overlong UTF-8 (C0 AF) in a string", b'{"Marker": "\xc0\xaf"}'),
    ("a truncated UTF-8 sequence (E2 82) in a string", b'{"Marker": "\xe2\x82"}'),
    ("a UTF-8-encoded surrogate (ED A0 80) in a string", b'{"Marker": "\xed\xa0\x80"}'),
    ("a lone high surrogate `\\ud800` in a string", b'{"Marker": "\\ud800"}'),
    ("a lone low surrogate `\\udc00` in a string", b'{"Marker": "\\udc00"}'),
    ("a raw control character (01) in a string", b'{"Marker": "a\x01b"}'),
    ("an invalid escape `\\x41` in a string", b'{"Marker": "\\x41"}'),
    ("a number with a leading zero `{\"Limit\": 05}`", b'{"Limit": 05}'),
    ("`NaN` as a number", b'{"Limit": NaN}'),
    ("a UTF-8 byte order mark before the object", b"\xef\xbb\xbf{}"),
    ("an empty body (AWS JSON: an empty request)", b""),
    ("white space only", b"  \n "),
]:
    add("malformed JSON", "ListKeys: " + text, SIGNED + ", raw body", kms("ListKeys", body))
add("malformed JSON", "Encrypt: a duplicate `EncryptionContext` key", SIGNED + ", raw body",
    kms("Encrypt", lambda w: ('{"KeyId": "%s", "Plaintext": "eA==", "EncryptionContext": {"a": "1", "a": "2"}}'
                              % w.for_operation("Encrypt")["key"])))

# 2. Wrong JSON types, every member of every served operation, from the model
for operation in OPERATIONS:
    shape = MODEL.operation_model(operation).input_shape
    for path, member in member_paths(shape):
        for value, what in WRONG[member.type_name]:
            add("wrong JSON type", "%s: `%s` = `%s` (%s)" % (operation, path_text(path), json.dumps(value), what),
                SIGNED, kms(operation, typed_body(operation, path, value)))

# 3. Missing required members, from the model
for operation in OPERATIONS:
    shape = MODEL.operation_model(operation).input_shape
    for path, member in member_paths(shape):
        parent = shape_at(shape, path[:-1]) if path[-1] not in (0, VALUE) else None
        if parent is not None and path[-1] in parent.required_members:
            add("missing member", "%s without `%s` (required)" % (operation, path_text(path)), SIGNED,
                kms(operation, missing_body(operation, path)), VALIDATION, "m")
add("missing member", "DescribeKey with `\"KeyId\": null`", SIGNED, kms("DescribeKey", {"KeyId": None}))
add("missing member", "Encrypt with `\"Plaintext\": null`", SIGNED,
    kms("Encrypt", lambda w: {"KeyId": w.for_operation("Encrypt")["key"], "Plaintext": None}))
# Required by the model's documentation but not by its shapes: the error is not stated.
add("missing member", "Decrypt without `CiphertextBlob` (required by its documentation)", SIGNED,
    kms("Decrypt", {}))
add("missing member", "ReEncrypt without `CiphertextBlob` (required by its documentation)", SIGNED,
    kms("ReEncrypt", lambda w: {"DestinationKeyId": w.for_operation("ReEncrypt")["key"]}))
add("missing member", "GenerateRandom without `NumberOfBytes` (required by its documentation)", SIGNED,
    kms("GenerateRandom", {}))
add("missing member", "GenerateDataKey with neither `KeySpec` nor `NumberOfBytes`", SIGNED,
    kms("GenerateDataKey", lambda w: {"KeyId": w.for_operation("GenerateDataKey")["key"]}))


# 4. Oversize members and bodies
def body_with(operation, **members):
    def body(world):
        value = base_body(operation, world)
        value.update({name: (v(world) if callable(v) else v) for name, v in members.items()})
        return value
    return body


PAD = b'{"Pad": "' + b"x" * (1 << 20) + b'"}'
add("oversize", "a body of 1 MiB + %d bytes (ListKeys with a padding member)" % (len(PAD) - (1 << 20)), SIGNED,
    kms("ListKeys", PAD), want_status=413)
add("oversize", "a body of 4 MiB", SIGNED, kms("ListKeys", b'{"Pad": "' + b"x" * (4 << 20) + b'"}'), want_status=413)
WIDE_CONTEXT = {"k%02d" % i: "v" * 200 for i in range(41)}
for operation, name, value, what, aws, source in [
    ("Encrypt", "Plaintext", b64(b"x" * 4097), "of 4097 bytes (max 4096)", VALIDATION, "m"),
    ("Encrypt", "Plaintext", "", "empty (min length 1)", VALIDATION, "m"),
    ("Encrypt", "EncryptionContext", {"k%02d" % i: "v" for i in range(65)}, "of 65 pairs", None, ""),
    ("Encrypt", "EncryptionContext", {"k": "v" * 8200}, "of one pair, 8201 bytes (over 8192)", None, ""),
    ("Encrypt", "EncryptionContext", WIDE_CONTEXT, "of %d pairs, %d bytes in all"
     % (len(WIDE_CONTEXT), sum(len(k) + len(v) for k, v in WIDE_CONTEXT.items())), None, ""),
    ("Encrypt", "GrantTokens", ["t"] * 11, "of 11 tokens (max 10)", VALIDATION, "m"),
    ("Encrypt", "GrantTokens", ["t" * 8193], "with a token of 8193 characters (max 8192)", VALIDATION, "m"),
    ("Decrypt", "CiphertextBlob", b64(b"\x01" * 6145), "of 6145 bytes (max 6144)", VALIDATION, "m"),
    ("ReEncrypt", "CiphertextBlob", b64(b"\x01" * 6145), "of 6145 bytes (max 6144)", VALIDATION, "m"),
    ("Decrypt", "CiphertextBlob", "", "empty (min length 1)", VALIDATION, "m"),
    ("CreateKey", "Description", "d" * 8193, "of 8193 characters (max 8192)", VALIDATION, "m"),
    ("UpdateKeyDescription", "Description", "d" * 8193, "of 8193 characters (max 8192)", VALIDATION, "m"),
    ("CreateAlias", "AliasName", "alias/" + "a" * 251, "of 257 characters (max 256)", VALIDATION, "m"),
    ("UpdateAlias", "AliasName", "alias/" + "a" * 251, "of 257 characters (max 256)", VALIDATION, "m"),
    ("DeleteAlias", "AliasName", "alias/" + "a" * 251, "of 257 characters (max 256)", VALIDATION, "m"),
    ("DescribeKey", "KeyId", "k" * 2049, "of 2049 characters (max 2048)", VALIDATION, "m"),
    ("DescribeKey", "KeyId", "", "empty (min length 1)", VALIDATION, "m"),
    ("PutKeyPolicy", "Policy", ROOT_POLICY[:-1] + ', "Pad": "' + "x" * (32769 - len(ROOT_POLICY) - 11) + '"}',
     "of 32,769 bytes (quota 32 KiB)", ("LimitExceededException", 400), "p"),
    ("CreateKey", "Policy", ROOT_POLICY[:-1] + ', "Pad": "' + "x" * (32769 - len(ROOT_POLICY) - 11) + '"}',
     "of 32,769 bytes (quota 32 KiB)", ("LimitExceededException", 400), "p"),
    ("PutKeyPolicy", "Policy", ROOT_POLICY[:-1] + ', "Pad": "' + "x" * (131073 - len(ROOT_POLICY) - 11) + '"}',
     "of 131,073 bytes (the model's max is 131,072)", None, ""),
    ("PutKeyPolicy", "PolicyName", "p" * 129, "of 129 characters (max 128)", VALIDATION, "m"),
    ("TagResource", "Tags", [{"TagKey": "k" * 129, "TagValue": "v"}], "with a TagKey of 129 characters (max 128)",
     VALIDATION, "m"),
    ("TagResource", "Tags", [{"TagKey": "k", "TagValue": "v" * 257}], "with a TagValue of 257 characters (max 256)",
     VALIDATION, "m"),
    ("GenerateRandom", "NumberOfBytes", 1025, "of 1025 (max 1024)", VALIDATION, "m"),
    ("GenerateDataKey", "NumberOfBytes", 1025, "of 1025 (max 1024)", VALIDATION, "m"),
    ("ListKeys", "Limit", 1001, "of 1001 (max 1000)", VALIDATION, "m"),
    ("ListKeys", "Limit", 0, "of 0 (min 1)", VALIDATION, "m"),
    ("ListKeys", "Marker", "m" * 1025, "of 1025 characters (max 1024)", VALIDATION, "m"),
    ("EnableKeyRotation", "RotationPeriodInDays", 2561, "of 2561 (max 2560)", VALIDATION, "m"),
    ("CreateKey", "CustomKeyStoreId", "c" * 65, "of 65 characters (max 64)", VALIDATION, "m"),
]:
    label = "%s: `%s` %s" % (operation, name, what)
    if operation == "GenerateDataKey":
        body = lambda w, v=value: {"KeyId": w.for_operation("GenerateDataKey")["key"], "NumberOfBytes": v}
    else:
        body = body_with(operation, **{name: value})
    add("oversize", label, SIGNED, kms(operation, body), aws, source)

# 5. Invalid base64 in blobs
for value, what in [
    ("e!==", "a character outside the alphabet (`!`)"),
    ("eA*=", "a character outside the alphabet (`*`)"),
    ("-_-_", "the URL-safe alphabet (`-_-_`)"),
    ("eA", "missing padding (`eA`)"),
    ("eHk", "missing padding (`eHk`)"),
    ("eB==", "nonzero padding bits (`eB==`)"),
    ("eHl=", "nonzero padding bits (`eHl=`)"),
    ("eA===", "too much padding (`eA===`)"),
    ("eA==eA==", "padding in the middle (`eA==eA==`)"),
    ("eA ==", "a space inside (`eA ==`)"),
    ("eA==\n", "a trailing newline"),
    ("=", "padding only (`=`)"),
]:
    add("invalid base64", "Encrypt: `Plaintext` with %s" % what, SIGNED,
        kms("Encrypt", body_with("Encrypt", Plaintext=value)))
for value, what in [("AQID!", "a character outside the alphabet"), ("AQI", "missing padding"),
                    ("AQJ=", "nonzero padding bits")]:
    add("invalid base64", "Decrypt: `CiphertextBlob` with %s" % what, SIGNED, kms("Decrypt", {"CiphertextBlob": value}))
add("invalid base64", "ReEncrypt: `CiphertextBlob` with missing padding", SIGNED,
    kms("ReEncrypt", body_with("ReEncrypt", CiphertextBlob="AQI")))

# 6. Unknown operations and missing or garbage X-Amz-Target
for target, what in [
    ("TrentService.NoSuchOperation", "an unknown operation `TrentService.NoSuchOperation`"),
    ("TrentService.", "an empty operation `TrentService.`"),
    ("TrentService.listKeys", "the wrong case `TrentService.listKeys`"),
    ("trentservice.ListKeys", "the wrong case `trentservice.ListKeys`"),
    ("KMS.ListKeys", "another service prefix `KMS.ListKeys`"),
    ("TrentService.ListKeys.Extra", "a trailing part `TrentService.ListKeys.Extra`"),
    ("ListKeys", "no service prefix `ListKeys`"),
    ("garbage%%%", "garbage `garbage%%%`"),
    ("", "an empty header"),
    ("CofferDev.Reset", "the dev reset call `CofferDev.Reset` on a server without --allow-reset"),
]:
    add("target", "X-Amz-Target: " + what, SIGNED,
        lambda w, t=target: send_signed(w.main, t, {}))
add("target", "no X-Amz-Target header", SIGNED + ", no X-Amz-Target",
    lambda w: send_signed(w.main, None, {}, target_header=False))
add("target", "GET / (signed, with a valid target)", "signed GET",
    lambda w: send_signed(w.main, "TrentService.ListKeys", b"", method="GET"))
add("target", "POST /other (signed, with a valid target)", "signed POST to another path",
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, path="/other"))
add("target", "Content-Type `application/json`", SIGNED,
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, content_type="application/json"))
add("target", "no Content-Type", SIGNED, lambda w: send_signed(w.main, "TrentService.ListKeys", {}, content_type=None))

# 7. Keys, aliases and ARNs of other accounts and Regions
NOT_FOUND = ("NotFoundException", 400)


def elsewhere(world):
    """A key with the alias alias/bad-input-elsewhere that live in eu-west-1 only, and a key of ours (in
    us-east-1) with the alias alias/bad-input-here."""
    if "elsewhere" not in world.per_operation:
        there = world.key(region=OTHER_REGION, description="a key in another Region")
        world.main.client(region=OTHER_REGION).create_alias(AliasName="alias/bad-input-elsewhere", TargetKeyId=there)
        here = world.key(description="a key of ours")
        world.alias("alias/bad-input-here", here)
        world.per_operation["elsewhere"] = {"there": there, "here": here}
    return world.per_operation["elsewhere"]


for operation, extra, what, name in [
    ("DescribeKey", {}, "the ARN of our key with another Region", lambda w, e: w.arn(e["here"], region=OTHER_REGION)),
    ("Encrypt", {"Plaintext": "eA=="}, "the ARN of our key with another Region",
     lambda w, e: w.arn(e["here"], region=OTHER_REGION)),
    ("DescribeKey", {}, "the ARN of our key with another account",
     lambda w, e: w.arn(e["here"], account=OTHER_ACCOUNT)),
    ("Encrypt", {"Plaintext": "eA=="}, "the ARN of our key with another account",
     lambda w, e: w.arn(e["here"], account=OTHER_ACCOUNT)),
    ("DisableKey", {}, "the ARN of our key with another account",
     lambda w, e: w.arn(e["here"], account=OTHER_ACCOUNT)),
    ("GetKeyPolicy", {}, "the ARN of our key with another account",
     lambda w, e: w.arn(e["here"], account=OTHER_ACCOUNT)),
    ("TagResource", {"Tags": [{"TagKey": "t", "TagValue": "v"}]}, "the ARN of our key with another Region",
     lambda w, e: w.arn(e["here"], region=OTHER_REGION)),
    ("DescribeKey", {}, "the key id of a key that lives in another Region", lambda w, e: e["there"]),
    ("Encrypt", {"Plaintext": "eA=="}, "the key id of a key that lives in another Region", lambda w, e: e["there"]),
    ("GenerateDataKey", {"KeySpec": "AES_256"}, "the key id of a key that lives in another Region",
     lambda w, e: e["there"]),
    ("DescribeKey", {}, "an alias name that exists only in another Region", lambda w, e: "alias/bad-input-elsewhere"),
    ("DescribeKey", {}, "the alias ARN (other Region) of an alias that exists only there",
     lambda w, e: "arn:aws:kms:%s:000000000000:alias/bad-input-elsewhere" % OTHER_REGION),
    ("DescribeKey", {}, "the ARN of our alias with another account",
     lambda w, e: "arn:aws:kms:us-east-1:%s:alias/bad-input-here" % OTHER_ACCOUNT),
    ("Encrypt", {"Plaintext": "eA=="}, "the ARN of our alias with another account",
     lambda w, e: "arn:aws:kms:us-east-1:%s:alias/bad-input-here" % OTHER_ACCOUNT),
    ("Encrypt", {"Plaintext": "eA=="}, "the ARN of our alias with another Region",
     lambda w, e: "arn:aws:kms:%s:000000000000:alias/bad-input-here" % OTHER_REGION),
]:
    add("elsewhere", "%s: `KeyId` = %s" % (operation, what), SIGNED,
        kms(operation, lambda w, x=extra, n=name: dict(x, KeyId=n(w, elsewhere(w)))), NOT_FOUND, "n")
add("elsewhere", "CreateAlias: `TargetKeyId` = the ARN of our key with another Region", SIGNED,
    kms("CreateAlias", lambda w: {"AliasName": "alias/bad-input-cross",
                                  "TargetKeyId": w.arn(elsewhere(w)["here"], region=OTHER_REGION)}), NOT_FOUND, "n")
add("elsewhere", "UpdateAlias: our alias to the key id of a key that lives in another Region", SIGNED,
    kms("UpdateAlias", lambda w: {"AliasName": "alias/bad-input-here", "TargetKeyId": elsewhere(w)["there"]}),
    NOT_FOUND, "n")

# 8. Signatures and credentials
def changed_body(world):
    """Signs `{}` and sends `{"Limit": 1}`."""
    request = botocore.awsrequest.AWSRequest(method="POST", url=world.main.endpoint + "/", data=b"{}", headers={
        "Content-Type": JSON_TYPE, "X-Amz-Target": "TrentService.ListKeys"})
    credentials = botocore.credentials.Credentials(world.main.access_key, world.main.secret_key)
    botocore.auth.SigV4Auth(credentials, "kms", world.main.region).add_auth(request)
    return http_exchange(world.main.endpoint, "POST", "/", b'{"Limit": 1}', dict(request.prepare().headers.items()))


add("signature", "ListKeys without any signature (no Authorization header)", "unsigned POST",
    lambda w: send_unsigned(w.main, "TrentService.ListKeys", {}), ("MissingAuthenticationTokenException", 403), "c")
add("signature", "ListKeys signed without X-Amz-Target among its SignedHeaders (header added after signing)",
    SIGNED + ", X-Amz-Target unsigned",
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, sign_target=False),
    ("IncompleteSignatureException", 400), "c")
add("signature", "DescribeKey signed without X-Amz-Target among its SignedHeaders", SIGNED + ", X-Amz-Target unsigned",
    lambda w: send_signed(w.main, "TrentService.DescribeKey", {"KeyId": w.for_operation("DescribeKey")["key"]},
                          sign_target=False), ("IncompleteSignatureException", 400), "c")
add("signature", "an Authorization header that is not a SigV4 signature (`AWS4-HMAC-SHA256 garbage`)",
    "POST with a garbage Authorization",
    lambda w: http_exchange(w.main.endpoint, "POST", "/", b"{}", {
        "Content-Type": JSON_TYPE, "X-Amz-Target": "TrentService.ListKeys", "X-Amz-Date": "20240101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 garbage"}), ("IncompleteSignatureException", 400), "c")
add("signature", "signed without an X-Amz-Date header (removed after signing)", SIGNED + ", X-Amz-Date removed",
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, drop=("X-Amz-Date",)),
    ("IncompleteSignatureException", 400), "c")
add("signature", "the body changed after signing (`{}` signed, `{\"Limit\": 1}` sent)", SIGNED + ", body changed",
    changed_body)
add("signature", "signed with the wrong secret key", SIGNED,
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, secret_key="not-the-secret"))
add("signature", "signed with an unknown access key id", SIGNED,
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, access_key="AKIDNOSUCHKEY"))
add("signature", "signed 20 minutes ago", SIGNED + ", clock 20 min behind",
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, skew=-datetime.timedelta(minutes=20)))
add("signature", "signed 20 minutes in the future", SIGNED + ", clock 20 min ahead",
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, skew=datetime.timedelta(minutes=20)))
add("signature", "signed for the service `s3` instead of `kms`", SIGNED,
    lambda w: send_signed(w.main, "TrentService.ListKeys", {}, service="s3"))
for region, what in [("not_a_region", "`not_a_region`"), ("US-EAST-1", "`US-EAST-1` (upper case)"),
                     ("mars", "`mars`"), ("us-east-1a", "`us-east-1a` (an availability zone)"),
                     ("../../etc", "`../../etc`")]:
    add("signature", "signed for the region " + what, SIGNED,
        lambda w, r=region: send_signed(w.main, "TrentService.ListKeys", {}, region=r))


# 9. Key states AWS refuses
DISABLED = ("DisabledException", 400)
INVALID_STATE = ("KMSInvalidStateException", 400)


def state_request(operation, key, blob, world, row):
    other = world.bystander()
    return {
        "Encrypt": {"KeyId": key, "Plaintext": b64(b"x")},
        "Decrypt": {"CiphertextBlob": blob},
        "ReEncrypt (source)": {"CiphertextBlob": blob, "DestinationKeyId": other["key"]},
        "ReEncrypt (destination)": {"CiphertextBlob": other["blob"], "DestinationKeyId": key},
        "GenerateDataKey": {"KeyId": key, "KeySpec": "AES_256"},
        "GenerateDataKeyWithoutPlaintext": {"KeyId": key, "KeySpec": "AES_256"},
        "UpdateKeyDescription": {"KeyId": key, "Description": "new"},
        "TagResource": {"KeyId": key, "Tags": [{"TagKey": "t2", "TagValue": "v"}]},
        "UntagResource": {"KeyId": key, "TagKeys": ["t"]},
        "CreateAlias": {"AliasName": "alias/bad-input-state-%d" % row, "TargetKeyId": key},
        "UpdateAlias": {"AliasName": other["alias"], "TargetKeyId": key},
        "PutKeyPolicy": {"KeyId": key, "PolicyName": "default", "Policy": ROOT_POLICY},
        "ScheduleKeyDeletion": {"KeyId": key, "PendingWindowInDays": 7},
    }.get(operation, {"KeyId": key})


def state_row(operation, state, row):
    def run(world):
        if state == "a disabled key":
            key, blob = world.disabled()
        elif state == "a key pending deletion":
            key, blob = world.pending()
        else:
            key = world.key(description="an enabled key")
            blob = world.blob(key)
        return send_signed(world.main, "TrentService." + operation.split(" ")[0],
                           state_request(operation, key, blob, world, row))
    return run


CRYPTO = ["Encrypt", "Decrypt", "ReEncrypt (source)", "ReEncrypt (destination)", "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext", "EnableKeyRotation", "RotateKeyOnDemand"]
STATE_ROWS = [(op, "a disabled key", DISABLED) for op in CRYPTO]
STATE_ROWS += [(op, "a key pending deletion", INVALID_STATE) for op in CRYPTO + [
    "EnableKey", "DisableKey", "UpdateKeyDescription", "TagResource", "UntagResource", "CreateAlias", "UpdateAlias",
    "PutKeyPolicy", "ScheduleKeyDeletion"]]
STATE_ROWS += [("CancelKeyDeletion", "an enabled key", INVALID_STATE)]
for row, (operation, state, aws) in enumerate(STATE_ROWS):
    where = {"ReEncrypt (source)": "ReEncrypt of a ciphertext of %s",
             "ReEncrypt (destination)": "ReEncrypt to %s",
             "Decrypt": "Decrypt of a ciphertext of %s",
             "CreateAlias": "CreateAlias targeting %s",
             "UpdateAlias": "UpdateAlias of an alias to %s"}.get(operation, operation + " of %s")
    add("key state", where % state, SIGNED, state_row(operation, state, row), aws, "s")


# 10. Transport: raw sockets against the short-timeout server (and idle crowds against the main one)
def connect(server):
    url = urllib.parse.urlparse(server.endpoint)
    return socket.create_connection((url.hostname, url.port), timeout=5)


def read_answer(sock, started, limit):
    """Reads one HTTP answer, or notes the close; never waits past `limit` seconds from `started`."""
    data = b""
    while time.monotonic() - started < limit:
        sock.settimeout(max(0.05, min(0.5, limit - (time.monotonic() - started))))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if length and len(rest) >= int(length.group(1)):
                break
    elapsed = time.monotonic() - started
    if not data:
        closed = time.monotonic() - started < limit
        return Outcome(closed=closed, elapsed=elapsed, note="" if closed else "open")
    status = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    head, _, rest = data.partition(b"\r\n\r\n")
    outcome = answer_of(int(status.group(1)) if status else None, rest)
    if status is None:
        outcome.message = "(not an HTTP answer)"
    return outcome


def raw_exchange(payload):
    def run(world):
        sock = connect(world.slow)
        started = time.monotonic()
        try:
            try:
                sock.sendall(payload)
            except OSError:
                pass
            return read_answer(sock, started, 10)
        finally:
            sock.close()
    return run


def trickle(prefix, step, limit):
    """Sends `prefix`, then `step` one byte every 0.1 s, until the server answers or closes (or limit + 4 s
    pass)."""
    def run(world):
        sock = connect(world.slow)
        started = time.monotonic()
        try:
            if prefix:
                sock.sendall(prefix)
            sock.settimeout(0.1)
            while time.monotonic() - started < limit + 4:
                if step:
                    try:
                        sock.send(step)
                    except OSError:
                        return Outcome(closed=True, elapsed=time.monotonic() - started)
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    return Outcome(closed=True, elapsed=time.monotonic() - started)
                status = re.match(rb"HTTP/1\.[01] (\d{3})", chunk)
                outcome = answer_of(int(status.group(1)) if status else None, chunk.partition(b"\r\n\r\n")[2])
                if status is None:
                    outcome.message = "(not an HTTP answer)"
                return outcome
            return Outcome(elapsed=time.monotonic() - started, note="still open")
        finally:
            sock.close()
    return run


HEAD = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
add("transport", "slowloris: a request head sent one byte every 0.1 s, never finished (idle timeout 2 s)",
    "raw socket", trickle(HEAD + b"X-Slow: ", b"a", IDLE_TIMEOUT), close=IDLE_TIMEOUT, transport=True)
add("transport", "slowloris: one header line, then a header name one byte every 0.1 s (idle timeout 2 s)",
    "raw socket", trickle(b"POST / HTTP/1.1\r\n", b"X", IDLE_TIMEOUT), close=IDLE_TIMEOUT, transport=True)
add("transport", "a connection that sends nothing (idle timeout 2 s)", "raw socket",
    trickle(b"", b"", IDLE_TIMEOUT), close=IDLE_TIMEOUT, transport=True)
add("transport", "a body sent one byte every 0.1 s after a complete head (read timeout 1 s)", "raw socket",
    trickle(HEAD + b"Content-Length: 1000\r\n\r\n", b"{", READ_TIMEOUT), close=READ_TIMEOUT, transport=True)
add("transport", "a head declaring Content-Length 2 MiB, then 1 byte and silence", "raw socket",
    trickle(HEAD + b"Content-Length: 2097152\r\n\r\n{", b"", READ_TIMEOUT), close="may", transport=True)
for payload, what in [
    (b"GARBAGE\r\n\r\n", "a garbage request line"),
    (b"POST / HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP version 9.9"),
    (b"POST / HTTP/1.1\r\nHost x\r\n\r\n", "a header line without a colon"),
    (HEAD + b"X-Big: " + b"a" * 200000 + b"\r\n\r\n", "a 200 KB header line"),
    (HEAD + b"Content-Length: -1\r\n\r\n", "Content-Length -1"),
    (HEAD + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "both Content-Length and Transfer-Encoding"),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n", "a chunk size that is not hex"),
    (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + (b"10000\r\n" + b"a" * 65536 + b"\r\n") * 17 + b"0\r\n\r\n",
     "a chunked body of 1.06 MiB"),
]:
    add("transport", what, "raw socket", raw_exchange(payload), transport=True)
add("transport", "an unsigned request without X-Amz-Target", "raw socket",
    raw_exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"),
    ("MissingAuthenticationTokenException", 403), "c", transport=True)


def idle_crowd(world):
    """300 connections to the main server that send nothing, then a signed ListKeys from a 301st."""
    crowd = []
    try:
        for _ in range(300):
            crowd.append(connect(world.main))
        return send_signed(world.main, "TrentService.ListKeys", {"Limit": 1})
    finally:
        for sock in crowd:
            sock.close()


add("transport", "300 idle connections held open while a normal signed ListKeys is sent",
    "300 raw sockets + signed POST", idle_crowd)


def crowd_past_the_limit(world):
    """Twice --max-connections (200) of connections that send nothing, to a server of its own (the others' rows
    must not be displaced), then a signed ListKeys: the newcomer displaces the connection that waited longest."""
    server = start_coffer("--ephemeral", "--max-connections", "200")
    crowd = []
    try:
        for _ in range(400):
            crowd.append(connect(server))
        return send_signed(server, "TrentService.ListKeys", {"Limit": 1})
    finally:
        for sock in crowd:
            sock.close()
        server.stop()


add("transport", "400 idle connections held open, twice --max-connections (200), while a signed ListKeys is sent",
    "400 raw sockets + signed POST", crowd_past_the_limit)


# MARK: Running the rows

@pytest.fixture(scope="module")
def outcomes():
    main = start_coffer("--ephemeral")
    slow = start_coffer("--ephemeral", "--idle-timeout", "%g" % IDLE_TIMEOUT, "--read-timeout", "%g" % READ_TIMEOUT)
    try:
        world = World(main, slow)
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = {n: pool.submit(case.run, world) for n, case in enumerate(CASES) if case.transport}
            for n, case in enumerate(CASES):
                if not case.transport:
                    results[n] = case.run(world)
            for n, future in futures.items():
                results[n] = future.result()
        for server in (main, slow):
            assert server.process.poll() is None, "coffer dev exited during the rows:\n" + server.log()
        yield results
    finally:
        main.stop()
        slow.stop()


def coffer_cell(case, outcome):
    if outcome.status is None:
        if outcome.closed and isinstance(case.close, float):
            if outcome.elapsed <= case.close + SLACK:
                return "connection closed by Coffer within the limit (%g s)" % case.close
            return "connection closed late (past %g s + %g s)" % (case.close, SLACK)
        if outcome.closed:
            return "connection closed without an answer"
        return "connection still open past the limit"
    name = outcome.name or ("success" if outcome.status < 300 else "(no error body)")
    text = "%s, %d" % (name, outcome.status)
    message = clean(outcome.message)
    if message:
        text += ": " + message
    return text


def aws_cell(case):
    if case.aws is None:
        return "—"
    name, status = case.aws
    return "%s, %s [%s]" % (name, status if status is not None else "—", case.source)


def escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def document(results):
    lines = [
        "# Bad input: what Coffer answers, and what AWS answers",
        "",
        "Generated by `tests/e2e/test_bad_input.py`; do not edit by hand. Each row is sent to a running",
        "`coffer dev --ephemeral` (the single-socket transport rows to a second one started with",
        "`--idle-timeout 2 --read-timeout 1`)",
        "and Coffer's answer is recorded: the error name (`__type`), the HTTP status and the first 100",
        "characters of the message (key ids shown as `<key-id>`). The test fails if a row answers a 500, drops",
        "the connection where an answer is due, or differs from a known AWS answer; it also fails if this file",
        "differs from what it produced. To regenerate it:",
        "",
        "    COFFER_BIN=.build/debug/coffer UPDATE_BAD_INPUT=1 python3 -m pytest -q tests/e2e/test_bad_input.py",
        "",
        "AWS's answer is given only where botocore's model or AWS's documentation states it (— elsewhere); the",
        "mark after it names the source:",
        "",
    ]
    lines += ["- [%s] %s" % (mark, text) for mark, text in SOURCES.items()]
    lines += ["", "| # | input | sent as | Coffer's answer (name, status) | AWS's answer (name, status) |",
              "|---|---|---|---|---|"]
    for n, case in enumerate(CASES):
        lines.append("| %d | %s | %s | %s | %s |" % (
            n + 1, escape(case.input), escape(case.sent_as), escape(coffer_cell(case, results[n])),
            escape(aws_cell(case))))
    return "\n".join(lines) + "\n"


def problems(case, outcome):
    """Why a row fails (empty when it passes)."""
    found = []
    if outcome.status is not None and outcome.status >= 500:
        found.append("Coffer answered a %d" % outcome.status)
    if outcome.status is None:
        if case.close is None:
            found.append("the connection ended without an answer (%s)" % (outcome.note or "closed"))
        elif isinstance(case.close, float) and not (outcome.closed and outcome.elapsed <= case.close + SLACK):
            found.append("the connection was not closed within %g s (+%g s): %s after %.1f s"
                         % (case.close, SLACK, "closed" if outcome.closed else "still open", outcome.elapsed))
    elif isinstance(case.close, float):
        found.append("expected the connection to be closed within %g s, got an answer" % case.close)
    if case.aws is not None:
        name, status = case.aws
        if outcome.name != name or (status is not None and outcome.status != status):
            found.append("AWS answers %s, %s; Coffer answered %s, %s"
                         % (name, status if status is not None else "—", outcome.name or "(no error)",
                            outcome.status))
    if case.want_status is not None and outcome.status != case.want_status:
        found.append("expected HTTP %d, got %s" % (case.want_status, outcome.status))
    return found


def test_the_table_has_every_category_and_enough_rows():
    groups = {case.group for case in CASES}
    assert {"malformed JSON", "wrong JSON type", "missing member", "oversize", "invalid base64", "target",
            "elsewhere", "signature", "key state", "transport"} <= groups
    assert len(CASES) >= 150
    covered = {case.input.split(":")[0] for case in CASES if case.group == "wrong JSON type"}
    assert covered == set(OPERATIONS)
    assert len({case.input for case in CASES}) == len(CASES), "two rows with the same description"


@pytest.mark.parametrize("n", range(len(CASES)), ids=["%03d" % (n + 1) for n in range(len(CASES))])
def test_row(outcomes, n):
    case, outcome = CASES[n], outcomes[n]
    found = problems(case, outcome)
    assert not found, "row %d (%s; sent as %s): %s [Coffer: %s]" % (
        n + 1, case.input, case.sent_as, "; ".join(found), coffer_cell(case, outcome))


def test_document_is_current(outcomes):
    text = document(outcomes)
    if UPDATE:
        with open(DOC, "w") as handle:
            handle.write(text)
        return
    assert os.path.exists(DOC), "docs/bad-input.md is missing; run with UPDATE_BAD_INPUT=1 to write it"
    with open(DOC) as handle:
        committed = handle.read()
    if committed != text:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), text.splitlines(True),
                                                 "docs/bad-input.md", "this run"))[:80])
        pytest.fail("docs/bad-input.md is stale; regenerate it with UPDATE_BAD_INPUT=1:\n" + diff)

"""A host's probes: `/health` (liveness), `/ready` (an HSM session and the store), and `/metrics` in
Prometheus's text format, with every metric the fleet issue names after a load of real boto3 calls."""
import re
import urllib.error
import urllib.request

import pytest

from conftest import expect_error, signed_call, start_coffer, store_args

METRICS = [
    "coffer_requests_total", "coffer_request_duration_seconds_bucket", "coffer_hsm_member_up",
    "coffer_hsm_sessions_negotiated_total", "coffer_hsm_session_renewals_total",
    "coffer_hsm_session_failures_total", "coffer_hsm_call_duration_seconds_bucket",
    "coffer_store_call_duration_seconds_bucket", "coffer_rewrap_tokens_total", "coffer_rewrap_passes_total",
    "coffer_rewrap_pending_tokens", "coffer_stored_tokens", "coffer_domain_epoch",
]


def get(server, path):
    try:
        with urllib.request.urlopen(server.endpoint + path, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type"), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


@pytest.fixture(scope="module")
def server():
    running = start_coffer(*store_args())
    yield running
    running.stop()


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition; fails on a malformed line."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)', line)
        assert match, "not a Prometheus sample line: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"', match.group(3) or ""))
        found[(match.group(1), labels)] = float(match.group(4))
    return found


def test_health_and_ready_answer_200(server):
    assert get(server, "/health")[:1] == (200,)
    status, _, body = get(server, "/ready")
    assert status == 200 and body == "ready\n"


def test_metrics_show_every_named_metric_after_a_load(server):
    kms = server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(20):
        blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        kms.decrypt(CiphertextBlob=blob)
        kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    expect_error("NotFoundException", kms.describe_key, KeyId="11111111-1111-1111-1111-111111111111")
    status, content_type, text = get(server, "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    found = samples(text)
    names = {name for name, _ in found}
    missing = [name for name in METRICS if name not in names]
    assert not missing, "missing metrics %s in:\n%s" % (missing, text)
    requests = {dict(labels)["operation"] + "/" + dict(labels)["code"]: value
                for (name, labels), value in found.items() if name == "coffer_requests_total"}
    assert requests["Encrypt/ok"] >= 20 and requests["Decrypt/ok"] >= 20 and requests["GenerateDataKey/ok"] >= 20
    assert requests["DescribeKey/NotFoundException"] >= 1
    assert found[("coffer_hsm_sessions_negotiated_total", frozenset())] >= 1
    assert any(name == "coffer_hsm_member_up" and value == 1.0 for (name, _), value in found.items())
    # The re-wrap job's first pass counted the store: the admin's sealed secret at least (and the key made
    # here once a later pass ran), every one under the active domain key.
    assert found[("coffer_stored_tokens", frozenset())] >= 1
    assert found[("coffer_rewrap_pending_tokens", frozenset())] == 0
    assert found[("coffer_rewrap_passes_total", frozenset())] >= 1


def test_an_unknown_target_is_counted_as_other_not_as_a_label_of_its_own(server):
    for target in ("TrentService.Nope%d" % n for n in range(5)):
        signed_call(server, target, b"{}")
    _, _, text = get(server, "/metrics")
    assert "Nope" not in text
    assert 'operation="other"' in text


def test_probes_reveal_no_key_or_caller(server):
    _, _, text = get(server, "/metrics")
    assert server.access_key not in text and server.secret_key not in text
    assert "arn:aws" not in text

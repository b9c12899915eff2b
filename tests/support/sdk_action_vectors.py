#!/usr/bin/env python3
"""Writes tests/vectors/tc3-signing-actions.json: signing vectors for the key-pair actions
beyond DeleteKeyPairs, made by the official Tencent Cloud Python SDK itself.

Each case is one typed request of the SDK (tencentcloud.cvm.v20170312.models) sent by its
CvmClient, which builds, encodes and signs it as it always does; the request is caught before
it leaves (no network), with the SDK's clock fixed, and written in the schema of
tc3-signing.json. The canonical request and string to sign are the SDK's own, recorded as it
hashes and signs them. X-TC-RequestClient and X-TC-TraceId are left out of api_headers: they
name the SDK, are not signed, and the library does not send them.

tests/conformance.rs checks every step of every case, and builds each case's request with the
library's own action type, which must give the SDK's query (GET) or JSON (POST) exactly.

Run with the SDK's Python (tencentcloud-sdk-python-common and -cvm installed), from the
repository root, then copy the file to emulator/tests/vectors/ (CI compares the two):
    /tmp/sdkenv/bin/python tests/support/sdk_action_vectors.py
    cp tests/vectors/tc3-signing-actions.json emulator/tests/vectors/
"""
import base64
import hashlib
import json
import os
import time
from importlib import metadata

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.cvm.v20170312 import cvm_client, models

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
HOST = "cvm.tencentcloudapi.com"
TIMESTAMP = 1700000000
# Public keys made by ssh-keygen for these vectors (no private key is kept anywhere).
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKTdthVklA9fhih2OIjBQGqdjtK62tDD50tjFMOSNQqs ci@example"
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC057FZ4E2w0E+cbTwfsCr/1vzE6ug8fTJY4B9tAC0MDESJtxTX8H4lQhL9"
       "dxDJkZy2uQggaD9zWWZoWOOdEpFy5xKrQ3XjQQ/WFv30vIIIfAlgmZWE024DbooP0AozqN+q+1sT+uUakVIb1yP1Tx/KWJcpc"
       "HEyVl/nTdG1o5AoiDhrs1YxvbMUm0VQuByLLa/i/GSbwBnlNbyHw+V/CW9+ff9X+JXmMsa2uXDLgWP8MrAZNpjEe9ARdYj7kv"
       "gxz+JSGg7/7aTwPy/DY5gukDB9Dbh+kBu5qVZpfHKLcpbzLZLtqUFybQeyWZ1GsbBELvWZ5aQ0EbbijfOfjhly+GqT deploy")
TAGS = [{"ResourceType": "keypair", "Tags": [{"Key": "env", "Value": "ci"}, {"Key": "owner", "Value": "team a"}]}]

# (case name, method, SDK request class, its parameters). Booleans only go by POST: the
# Python SDK writes them into a GET query as Python does (ForceStop=True), where the library,
# like the API's own examples, writes true/false.
CASES = [
    ("create_key_pair_post_tags", "POST", "CreateKeyPair",
     {"KeyName": "ci_deploy", "ProjectId": 0, "TagSpecification": TAGS}),
    ("create_key_pair_get_tags", "GET", "CreateKeyPair",
     {"KeyName": "ci_deploy", "ProjectId": 1002189, "TagSpecification": TAGS}),
    ("import_key_pair_post", "POST", "ImportKeyPair",
     {"KeyName": "laptop", "ProjectId": 0, "PublicKey": ED25519}),
    ("import_key_pair_get_tags", "GET", "ImportKeyPair",
     {"KeyName": "deploy_rsa", "ProjectId": 7, "PublicKey": RSA, "TagSpecification": TAGS}),
    ("associate_post_force_stop", "POST", "AssociateInstancesKeyPairs",
     {"InstanceIds": ["ins-1e4r6y8i", "ins-3e56fg78"], "KeyIds": ["skey-mv9yzyjj"], "ForceStop": True}),
    ("associate_get", "GET", "AssociateInstancesKeyPairs",
     {"InstanceIds": ["ins-1e4r6y8i"], "KeyIds": ["skey-mv9yzyjj", "skey-1a2b3c4d"]}),
    ("disassociate_post", "POST", "DisassociateInstancesKeyPairs",
     {"InstanceIds": ["ins-1e4r6y8i"], "KeyIds": ["skey-mv9yzyjj"], "ForceStop": False}),
    ("modify_key_pair_attribute_get", "GET", "ModifyKeyPairAttribute",
     {"KeyId": "skey-mv9yzyjj", "KeyName": "ci_old", "Description": "CI key / retired"}),
    ("describe_instances_post_ids", "POST", "DescribeInstances",
     {"InstanceIds": ["ins-1e4r6y8i", "ins-3e56fg78"], "Limit": 2}),
    ("describe_key_pairs_get_tag_filters", "GET", "DescribeKeyPairs",
     {"Filters": [{"Name": "tag-key", "Values": ["env"]}, {"Name": "tag:owner", "Values": ["team a"]}]}),
]


class Caught(Exception):
    """Raised in place of sending: the request was built and signed."""


def record_sdk_steps():
    """Wraps the SDK's hashing and signing so each case's steps are kept as it does them."""
    steps = {}
    real_sha256, real_sign = hashlib.sha256, Sign.sign_tc3

    class Hashlib:
        @staticmethod
        def sha256(data=b""):
            h = real_sha256(data)
            steps.setdefault("hashed", []).append((data, h.hexdigest()))
            return h

    def sign_tc3(secret_key, date, service, string_to_sign):
        signature = real_sign(secret_key, date, service, string_to_sign)
        steps["string_to_sign"], steps["signature"] = string_to_sign, signature
        return signature

    abstract_client.hashlib = Hashlib
    abstract_client.Sign.sign_tc3 = staticmethod(sign_tc3)
    # The SDK reads the clock as time.time(); the vectors fix it.
    abstract_client.time.time = lambda: TIMESTAMP
    return steps


def sdk_case(steps, name, method, action, params):
    steps.clear()
    profile = ClientProfile(httpProfile=HttpProfile(reqMethod=method, endpoint=HOST))
    client = cvm_client.CvmClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile)
    sent = {}

    def send_request(req):
        sent["req"] = req
        raise Caught()

    client.request.send_request = send_request
    request = getattr(models, action + "Request")()
    request._deserialize(params)
    try:
        getattr(client, action)(request)
    except Exception:  # the SDK wraps Caught in its own exception
        pass
    req = sent["req"]
    digest = steps["string_to_sign"].rsplit("\n", 1)[1]
    canonical = next(data for data, hexdigest in steps["hashed"] if hexdigest == digest)
    payload = req.data.encode("utf-8") if method == "POST" else b""
    wanted = ("X-TC-Action", "X-TC-Timestamp", "X-TC-Version", "X-TC-Region", "X-TC-Token", "X-TC-Language")
    return {
        "name": name,
        "source": "official Python SDK (tencentcloud-sdk-python-common %s, tencentcloud-sdk-python-cvm %s)"
        % (metadata.version("tencentcloud-sdk-python-common"), metadata.version("tencentcloud-sdk-python-cvm")),
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "service": "cvm",
        "action": action,
        "timestamp": TIMESTAMP,
        "method": method,
        "host": req.header["Host"],
        "query": req.data if method == "GET" else "",
        "content_type": req.header["Content-Type"],
        "signed_headers": [["content-type", req.header["Content-Type"]], ["host", req.header["Host"]]],
        "unsigned_payload": False,
        "payload_base64": base64.b64encode(payload).decode("ascii"),
        "expected": {
            "canonical_request": canonical.decode("utf-8"),
            "string_to_sign": steps["string_to_sign"],
            "signature": steps["signature"],
            "authorization": req.header["Authorization"],
        },
        "api_headers": [[n, req.header[n]] for n in wanted if n in req.header],
    }


def main():
    steps = record_sdk_steps()
    cases = [sdk_case(steps, *case) for case in CASES]
    about = (
        "TC3-HMAC-SHA256 signing vectors for the key-pair actions beyond DeleteKeyPairs (CVM "
        "2017-03-12), in the schema of tc3-signing.json: each request built, encoded and signed by "
        "the official Python SDK's CvmClient from its typed request models, with its clock fixed "
        "and the request caught before sending. api_headers leaves out X-TC-RequestClient and "
        "X-TC-TraceId (unsigned, SDK-specific). Generated by tests/support/sdk_action_vectors.py."
    )
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors", "tc3-signing-actions.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"about": about, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("%s: %d cases" % (os.path.normpath(out), len(cases)))


if __name__ == "__main__":
    main()

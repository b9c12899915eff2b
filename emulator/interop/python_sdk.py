"""Every emulated action through the official Python SDK (tencentcloud-sdk-python-cvm), against
`cvm-keypairs emulate` seeded with interop/seed.json; run by interop/run.sh.

Usage: python_sdk.py HOST:PORT ASYNC_DELAY_MS. Exits non-zero at the first mismatch.
"""

import json
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import StandardRetryer
from tencentcloud.cvm.v20170312 import cvm_client, models

ENDPOINT, DELAY = sys.argv[1], int(sys.argv[2]) / 1000
SECRET_ID, SECRET_KEY = "AKIDEMULATOR00000000000000000000", "emulator-secret-key-not-for-production"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl python@interop"
checks = 0


class Retryer(StandardRetryer):
    """The SDK's retry policy on RequestLimitExceeded (the emulator keeps the API's 10 per second
    per action), with short back-offs, counting the retries. `send_request` is redone: the SDK's
    (3.1.195) keeps the first error after a retry succeeds, retries again and raises it."""

    retries = 0

    def __init__(self):
        super().__init__(max_attempts=5, backoff_fn=lambda n: 0.25 * (n + 1))

    def send_request(self, fn):
        for n in range(self._max_attempts):
            try:
                return fn()
            except TencentCloudSDKException as err:
                if n + 1 == self._max_attempts or not self.should_retry(None, err):
                    raise
                check(err.get_code() == "RequestLimitExceeded", f"retried for {err}")
                Retryer.retries += 1
                time.sleep(self._backoff_fn(n))


def check(ok, what):
    global checks
    if not ok:
        sys.exit(f"python sdk: FAILED: {what}")
    checks += 1


def client(method="POST", region="ap-guangzhou"):
    http = HttpProfile(protocol="http", endpoint=ENDPOINT, reqMethod=method, reqTimeout=10)
    profile = ClientProfile(httpProfile=http)
    profile.retryer = Retryer()
    return cvm_client.CvmClient(credential.Credential(SECRET_ID, SECRET_KEY), region, profile)


def request(name, params):
    model = getattr(models, name + "Request")()
    model.from_json_string(json.dumps(params))
    return model


def call(cvm, action, params):
    """The typed call, as users make it; the answer as JSON."""
    return json.loads(getattr(cvm, action)(request(action, params)).to_json_string())


def fails(cvm, action, params, code):
    try:
        getattr(cvm, action)(request(action, params))
    except TencentCloudSDKException as e:
        check(e.get_code() == code, f"{action} {params}: {e.get_code()} {e.get_message()}, not {code}")
        return
    check(False, f"{action} {params} succeeded, not {code}")


def raw(cvm, action, params):
    """The answer's `Response` exactly as sent (the typed models add every field as null)."""
    return json.loads(cvm.call(action, params))["Response"]


def key(cvm, key_id):
    found = raw(cvm, "DescribeKeyPairs", {"KeyIds": [key_id]})["KeyPairSet"]
    return found[0] if found else None


def instance(cvm, instance_id):
    return call(cvm, "DescribeInstances", {"InstanceIds": [instance_id]})["InstanceSet"][0]


def until(what, done):
    """Polls `done` until it holds (at most 10 async delays); returns the seconds it took."""
    started = time.monotonic()
    while not done():
        check(time.monotonic() - started < 10 * DELAY + 2, f"never: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def scenario(cvm, prefix):
    seeded = raw(cvm, "DescribeKeyPairs", {})
    check(seeded["TotalCount"] == 2, f"seed listed: {seeded}")
    for entry in seeded["KeyPairSet"]:
        check("PrivateKey" not in entry and "AssociatedImageIds" not in entry, f"KeyPairSet entry {entry}")

    tags = [{"ResourceType": "keypair", "Tags": [{"Key": "env", "Value": "ci"}]}]
    made = call(cvm, "CreateKeyPair", {"KeyName": prefix + "created", "ProjectId": 0, "TagSpecification": tags})["KeyPair"]
    created = made["KeyId"]
    check(made["PrivateKey"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "a private key is returned")
    check(made["PublicKey"].startswith("ssh-rsa "), f"public key {made['PublicKey']}")
    listed = key(cvm, created)
    check(listed["Tags"] == [{"Key": "env", "Value": "ci"}] and "PrivateKey" not in listed, f"created key listed {listed}")
    for name, values in [("tag:env", ["ci"]), ("tag-key", ["env"]), ("tag-value", ["ci"])]:
        found = call(cvm, "DescribeKeyPairs", {"Filters": [{"Name": name, "Values": values}]})
        check([k["KeyId"] for k in found["KeyPairSet"]] == [created], f"filter {name}: {found}")
    fails(cvm, "CreateKeyPair", {"KeyName": prefix + "created", "ProjectId": 0}, "InvalidKeyPairName.Duplicate")
    fails(cvm, "CreateKeyPair", {"KeyName": "bad-name", "ProjectId": 0}, "InvalidKeyPairNameIncludeIllegalChar")
    fails(cvm, "CreateKeyPair", {"KeyName": prefix + "no_project"}, "MissingParameter")

    imported = call(cvm, "ImportKeyPair", {"KeyName": prefix + "imported", "ProjectId": 0, "PublicKey": PUBLIC_KEY})["KeyId"]
    fails(cvm, "ImportKeyPair", {"KeyName": prefix + "again", "ProjectId": 0, "PublicKey": PUBLIC_KEY}, "InvalidPublicKey.Duplicate")
    fails(cvm, "ImportKeyPair", {"KeyName": prefix + "bad", "ProjectId": 0, "PublicKey": "ssh-rsa AAAA"}, "InvalidPublicKey.Malformed")
    call(cvm, "ModifyKeyPairAttribute", {"KeyId": imported, "KeyName": prefix + "renamed", "Description": "renamed"})
    renamed = key(cvm, imported)
    check((renamed["KeyName"], renamed["Description"]) == (prefix + "renamed", "renamed"), f"modified {renamed}")
    fails(cvm, "ModifyKeyPairAttribute", {"KeyId": imported, "Description": "d" * 61}, "InvalidParameterValue.TooLong")

    asked = time.monotonic()
    call(cvm, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-stop0002"], "KeyIds": [created]})
    check(instance(cvm, "ins-stop0002")["LatestOperationState"] == "OPERATING", "the association is in progress")
    check(key(cvm, created)["AssociatedInstanceIds"] == [], "the association does not show at once")
    until("association shows", lambda: key(cvm, created)["AssociatedInstanceIds"] == ["ins-stop0002"])
    check(time.monotonic() - asked >= DELAY * 0.9, "it showed after the delay")
    done = instance(cvm, "ins-stop0002")
    check((done["LatestOperationState"], done["LoginSettings"]["KeyIds"]) == ("SUCCESS", [created]), f"done {done}")

    fails(cvm, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-run00001"], "KeyIds": [created]}, "UnsupportedOperation.InstanceStateRunning")
    fails(cvm, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-win00001"], "KeyIds": [created]}, "UnsupportedOperation.InstanceOsWindows")
    fails(cvm, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-zzzzzzzz"], "KeyIds": [created]}, "InvalidInstanceId.NotFound")
    fails(cvm, "DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-1"], "KeyIds": [created]}, "InvalidInstanceId.Malformed")

    call(cvm, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-run00001"], "KeyIds": [imported], "ForceStop": True})
    check(instance(cvm, "ins-run00001")["InstanceState"] == "STOPPED", "ForceStop stops the instance")
    until("force-stopped association shows", lambda: instance(cvm, "ins-run00001")["LatestOperationState"] == "SUCCESS")
    after = instance(cvm, "ins-run00001")
    check((after["InstanceState"], after["LoginSettings"]["KeyIds"]) == ("STOPPED", [imported]), f"after ForceStop {after}")

    call(cvm, "DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-stop0002"], "KeyIds": [created]})
    fails(cvm, "DeleteKeyPairs", {"KeyIds": [created]}, "InvalidParameterValue.KeyPairNotSupported")
    until("disassociation shows", lambda: key(cvm, created)["AssociatedInstanceIds"] == [])
    call(cvm, "DeleteKeyPairs", {"KeyIds": [created]})
    check(key(cvm, created) is None, "the created key is deleted")
    fails(cvm, "DeleteKeyPairs", {"KeyIds": ["skey-seed0002"]}, "InvalidParameterValue.KeyPairNotSupported")
    fails(cvm, "DeleteKeyPairs", {"KeyIds": ["skey-zzzzzzzz"]}, "InvalidKeyPairId.NotFound")


cvm = client()
scenario(cvm, "py_")
fails(client(region="ap-nowhere"), "DescribeKeyPairs", {}, "UnsupportedRegion")
fails(client(region="ap-nowhere"), "DescribeInstances", {}, "UnsupportedRegion")

# GET, flattened as the SDK flattens it (booleans as `True`, nested lists as `A.0.B.0.C`).
get = client("GET")
tags = [{"ResourceType": "keypair", "Tags": [{"Key": "via", "Value": "get"}]}]
by_get = call(get, "CreateKeyPair", {"KeyName": "py_get", "ProjectId": 0, "TagSpecification": tags})["KeyPair"]["KeyId"]
found = call(get, "DescribeKeyPairs", {"Filters": [{"Name": "tag:via", "Values": ["get"]}]})
check([k["KeyId"] for k in found["KeyPairSet"]] == [by_get], f"GET tag filter: {found}")
call(get, "DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-run00001"], "KeyIds": [by_get], "ForceStop": True})
until("GET disassociation", lambda: instance(get, "ins-run00001")["LatestOperationState"] == "SUCCESS")
call(get, "DeleteKeyPairs", {"KeyIds": [by_get]})
fails(get, "ImportKeyPair", {"KeyName": "py_get", "ProjectId": 0, "PublicKey": "ssh-ed25519"}, "InvalidPublicKey.Malformed")
print(f"python sdk: {checks} checks passed ({Retryer.retries} rate-limited requests retried)")

"""Every emulated action through the official Python SDK (tencentcloud-sdk-python-cvm), against
`cvm-keypairs emulate` seeded with interop/seed.json; then STS (tencentcloud-sdk-python-sts and
the common package's STSAssumeRoleCredential, OIDCRoleArnCredential and
DefaultTkeOIDCRoleArnProvider), whose temporary credentials then drive the key-pair actions. Run
by interop/run.sh.

Usage: python_sdk.py HOST:PORT ASYNC_DELAY_MS WEB_IDENTITY_TOKEN. Exits non-zero at the first
mismatch.
"""

import json
import os
import sys
import tempfile
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import StandardRetryer
from tencentcloud.cvm.v20170312 import cvm_client, models
from tencentcloud.sts.v20180813 import models as sts_models
from tencentcloud.sts.v20180813 import sts_client

ENDPOINT, DELAY, WEB_TOKEN = sys.argv[1], int(sys.argv[2]) / 1000, sys.argv[3]
ROLE = "qcs::cam::uin/100000000001:roleName/cvm-keypairs-emulator"
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


def profile(method="POST"):
    http = HttpProfile(protocol="http", endpoint=ENDPOINT, reqMethod=method, reqTimeout=10)
    profile = ClientProfile(httpProfile=http)
    profile.retryer = Retryer()
    return profile


def client(method="POST", region="ap-guangzhou", cred=None):
    cred = cred or credential.Credential(SECRET_ID, SECRET_KEY)
    return cvm_client.CvmClient(cred, region, profile(method))


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


def sts_fails(sts, action, params, code):
    model = getattr(sts_models, action + "Request")()
    model.from_json_string(json.dumps(params))
    try:
        getattr(sts, action)(model)
    except TencentCloudSDKException as e:
        check(e.get_code() == code, f"{action} {params}: {e.get_code()} {e.get_message()}, not {code}")
        check(bool(e.get_request_id()), f"{action} {params}: no RequestId")
        return
    check(False, f"{action} {params} succeeded, not {code}")


def with_credentials(cred, name):
    """The key-pair actions signed by `cred`'s temporary credentials (the SDK sends X-TC-Token)."""
    cvm = client(cred=cred)
    made = call(cvm, "CreateKeyPair", {"KeyName": name, "ProjectId": 0})["KeyPair"]["KeyId"]
    check(key(cvm, made) is not None, f"{name}: the created key is listed")
    call(cvm, "DeleteKeyPairs", {"KeyIds": [made]})
    check(key(cvm, made) is None, f"{name}: the created key is deleted")


# STS: the typed client, signed with the permanent keys; its temporary credentials sign CVM calls.
sts = sts_client.StsClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile())
assumed = sts_models.AssumeRoleRequest()
assumed.from_json_string(json.dumps({"RoleArn": ROLE, "RoleSessionName": "py-interop", "DurationSeconds": 900}))
answer = sts.AssumeRole(assumed)
check(answer.ExpiredTime - time.time() > 800 and answer.Expiration.endswith("Z"), f"AssumeRole {answer}")
tmp = answer.Credentials
with_credentials(credential.Credential(tmp.TmpSecretId, tmp.TmpSecretKey, tmp.Token), "py_sts")
fails(client(cred=credential.Credential(tmp.TmpSecretId, tmp.TmpSecretKey)), "DescribeKeyPairs", {},
      "AuthFailure.TokenFailure")
sts_fails(sts, "AssumeRole", {"RoleArn": ROLE + "-x", "RoleSessionName": "py"}, "ResourceNotFound.RoleNotFound")
sts_fails(sts, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "p y"}, "InvalidParameter.ParamError")
sts_fails(sts, "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "py", "DurationSeconds": 43201},
          "InvalidParameter.OverTimeError")
sts_fails(sts, "AssumeRoleWithWebIdentity", {"ProviderId": "p", "WebIdentityToken": "wrong", "RoleArn": ROLE,
          "RoleSessionName": "py"}, "InvalidParameter.WebIdentityTokenError")

# The providers: each calls STS itself (the endpoint taken as a URL, so plain http works).
sts_url = "http://" + ENDPOINT
with_credentials(credential.STSAssumeRoleCredential(SECRET_ID, SECRET_KEY, ROLE, "py-provider", 900,
                                                    endpoint=sts_url), "py_role")
with_credentials(credential.OIDCRoleArnCredential("ap-guangzhou", "tke-oidc", WEB_TOKEN, ROLE, "py-oidc", 900,
                                                  endpoint=sts_url), "py_oidc")
wrong = credential.OIDCRoleArnCredential("ap-guangzhou", "tke-oidc", "wrong", ROLE, "py-oidc", 900, endpoint=sts_url)
try:
    wrong.get_credential_info()
    check(False, "a wrong web identity token was accepted")
except TencentCloudSDKException as e:
    check(e.get_code() == "InvalidParameter.WebIdentityTokenError", f"wrong web identity token: {e}")
with tempfile.NamedTemporaryFile("w", suffix=".jwt") as token_file:
    token_file.write(WEB_TOKEN)  # the SDK sends the file's bytes as they are: no newline
    token_file.flush()
    os.environ.update({"TKE_REGION": "ap-guangzhou", "TKE_PROVIDER_ID": "tke-oidc",
                       "TKE_WEB_IDENTITY_TOKEN_FILE": token_file.name, "TKE_ROLE_ARN": ROLE})
    tke = credential.DefaultTkeOIDCRoleArnProvider().get_credentials()
    tke.endpoint = sts_url
    with_credentials(tke, "py_tke")

print(f"python sdk: {checks} checks passed ({Retryer.retries} rate-limited requests retried)")

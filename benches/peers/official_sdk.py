"""Times the official Tencent Cloud Python SDK building and signing DeleteKeyPairs, offline.

Run by benches/peers/compare.sh inside a virtual environment holding the pinned SDK. Prints one
line per figure, `<name>: <median ns> ns/op`, measured as benches/sign.rs measures the crate:
about 20 ms of calls to size a sample, 31 samples of that many calls times five, the median of
the per-call times.

A timed call is `CvmClient.DeleteKeyPairs(request)` with the SDK's connection object replaced by
one that keeps the signed request and answers a fixed success response: the SDK's whole path runs
(serialising the parameters, headers, TC3 signature, its HTTP layer up to the socket, and reading
a minimal response), and nothing is sent.
"""

import json
import time

from tencentcloud.common import credential
from tencentcloud.cvm.v20170312 import cvm_client, models

SAMPLES = 31
SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


class FakeResponse:
    """The smallest successful API response."""

    status_code = 200
    headers = {"Content-Type": "application/json"}
    content = b'{"Response":{"RequestId":"00000000-0000-0000-0000-000000000000"}}'


class NoNetwork:
    """Stands in for the SDK's connection: keeps the last signed request, sends nothing."""

    request_length = 0

    def __init__(self):
        self.last = None

    def request(self, method, url, body=None, headers=None):
        self.last = (method, url, body, dict(headers))
        return FakeResponse()


def median_ns(f):
    start = time.perf_counter()
    iters = 0
    while time.perf_counter() - start < 0.020:
        f()
        iters += 1
    per_sample = max(iters * 5, 10)
    samples = []
    for _ in range(SAMPLES):
        t = time.perf_counter_ns()
        for _ in range(per_sample):
            f()
        samples.append((time.perf_counter_ns() - t) / per_sample)
    samples.sort()
    return samples[SAMPLES // 2]


def main():
    client = cvm_client.CvmClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou")
    network = NoNetwork()
    client.request.conn = network

    for n in (1, 100):
        request = models.DeleteKeyPairsRequest()
        request.KeyIds = ["skey-%08x" % i for i in range(n)]
        client.DeleteKeyPairs(request)

        # The timed path must really build and sign the request.
        method, url, body, headers = network.last
        assert method == "POST" and url == "https://cvm.tencentcloudapi.com", (method, url)
        assert json.loads(body) == {"KeyIds": request.KeyIds}, body
        assert headers["X-TC-Action"] == "DeleteKeyPairs", headers
        prefix = "TC3-HMAC-SHA256 Credential=%s/" % SECRET_ID
        assert headers["Authorization"].startswith(prefix), headers["Authorization"]
        assert len(headers["Authorization"].rsplit("Signature=", 1)[1]) == 64

        ns = median_ns(lambda: client.DeleteKeyPairs(request))
        print("official_sdk_delete_post_%d: %.0f ns/op" % (n, ns), flush=True)


if __name__ == "__main__":
    main()

// Every emulated action through the official Node SDK (tencentcloud-sdk-nodejs-cvm), against
// `cvm-keypairs emulate` seeded with interop/seed.json; run by interop/run.sh.
//
// Usage: node node_sdk.js PORT ASYNC_DELAY_MS. Exits non-zero at the first mismatch.
//
// Two things of the Node SDK's (4.1.x) shape the client: it takes the signing service from the
// endpoint's first label ("cvm" for cvm.tencentcloudapi.com), so a bare 127.0.0.1 endpoint
// signs for service "127"; and it signs the host without its port while it sends `Host` with
// it, so any endpoint with a port fails the signature. The client is given the name
// cvm.emulator.invalid (a reserved name that never resolves) without a port, and an HTTP agent
// that connects every request to 127.0.0.1:PORT, so nothing leaves the machine.
"use strict";

const http = require("http");
const net = require("net");
const { cvm } = require("tencentcloud-sdk-nodejs-cvm");

const [port, delayMs] = [Number(process.argv[2]), Number(process.argv[3])];
const PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl node@interop";
let checks = 0;
let retries = 0;

function check(ok, what) {
  if (!ok) {
    console.error(`node sdk: FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

const agent = new http.Agent({ keepAlive: true });
agent.createConnection = (options, callback) => net.connect({ host: "127.0.0.1", port }, callback);

function client(region = "ap-guangzhou", reqMethod = "POST") {
  return new cvm.v20170312.Client({
    credential: { secretId: "AKIDEMULATOR00000000000000000000", secretKey: "emulator-secret-key-not-for-production" },
    region,
    profile: {
      httpProfile: { protocol: "http://", endpoint: "cvm.emulator.invalid", reqMethod, reqTimeout: 10, agent },
    },
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The SDK has no retry: RequestLimitExceeded (the emulator keeps the API's 10 per second per
// action) is retried here, as a client would, and counted.
async function call(c, action, params) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await c[action](params);
    } catch (e) {
      if (e.code !== "RequestLimitExceeded" || attempt === 4) throw e;
      retries += 1;
      await sleep(250 * (attempt + 1));
    }
  }
}

async function fails(c, action, params, code) {
  try {
    await call(c, action, params);
  } catch (e) {
    check(e.code === code, `${action} ${JSON.stringify(params)}: ${e.code} ${e.message}, not ${code}`);
    check(typeof e.requestId === "string" && e.requestId.length === 36, `a RequestId with ${code}`);
    return;
  }
  check(false, `${action} ${JSON.stringify(params)} succeeded, not ${code}`);
}

async function key(c, keyId) {
  const found = await call(c, "DescribeKeyPairs", { KeyIds: [keyId] });
  return found.KeyPairSet[0] || null;
}

async function instance(c, instanceId) {
  return (await call(c, "DescribeInstances", { InstanceIds: [instanceId] })).InstanceSet[0];
}

async function until(what, done) {
  const started = Date.now();
  while (!(await done())) {
    check(Date.now() - started < 10 * delayMs + 2000, `never: ${what}`);
    await sleep(50);
  }
}

const ids = (set) => set.map((k) => k.KeyId);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function scenario(c, prefix) {
  // The Node SDK hands back the answer as parsed, so what is absent here was not sent.
  const seeded = await call(c, "DescribeKeyPairs", {});
  check(seeded.TotalCount === 2, `seed listed: ${JSON.stringify(seeded)}`);
  for (const entry of seeded.KeyPairSet) {
    check(!("PrivateKey" in entry) && !("AssociatedImageIds" in entry), `KeyPairSet entry ${JSON.stringify(entry)}`);
  }

  const tags = [{ ResourceType: "keypair", Tags: [{ Key: "env", Value: "ci" }] }];
  const made = (await call(c, "CreateKeyPair", { KeyName: `${prefix}created`, ProjectId: 0, TagSpecification: tags }))
    .KeyPair;
  const created = made.KeyId;
  check(made.PrivateKey.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "a private key is returned");
  const listed = await key(c, created);
  check(same(listed.Tags, [{ Key: "env", Value: "ci" }]) && !("PrivateKey" in listed), `created key ${JSON.stringify(listed)}`);
  for (const [Name, Values] of [["tag:env", ["ci"]], ["tag-key", ["env"]], ["tag-value", ["ci"]]]) {
    const found = await call(c, "DescribeKeyPairs", { Filters: [{ Name, Values }] });
    check(same(ids(found.KeyPairSet), [created]), `filter ${Name}: ${JSON.stringify(found)}`);
  }
  await fails(c, "CreateKeyPair", { KeyName: `${prefix}created`, ProjectId: 0 }, "InvalidKeyPairName.Duplicate");
  await fails(c, "CreateKeyPair", { KeyName: "x".repeat(26), ProjectId: 0 }, "InvalidKeyPairNameTooLong");

  const imported = (await call(c, "ImportKeyPair", { KeyName: `${prefix}imported`, ProjectId: 0, PublicKey: PUBLIC_KEY }))
    .KeyId;
  await fails(c, "ImportKeyPair", { KeyName: `${prefix}again`, ProjectId: 0, PublicKey: PUBLIC_KEY }, "InvalidPublicKey.Duplicate");
  await fails(c, "ImportKeyPair", { KeyName: `${prefix}bad`, ProjectId: 0, PublicKey: "ssh-rsa AAAA" }, "InvalidPublicKey.Malformed");
  await call(c, "ModifyKeyPairAttribute", { KeyId: imported, KeyName: `${prefix}renamed`, Description: "renamed" });
  const renamed = await key(c, imported);
  check(renamed.KeyName === `${prefix}renamed` && renamed.Description === "renamed", `modified ${JSON.stringify(renamed)}`);

  const asked = Date.now();
  await call(c, "AssociateInstancesKeyPairs", { InstanceIds: ["ins-stop0002"], KeyIds: [created] });
  check((await instance(c, "ins-stop0002")).LatestOperationState === "OPERATING", "the association is in progress");
  check(same((await key(c, created)).AssociatedInstanceIds, []), "the association does not show at once");
  await until("association shows", async () => same((await key(c, created)).AssociatedInstanceIds, ["ins-stop0002"]));
  check(Date.now() - asked >= delayMs * 0.9, "it showed after the delay");
  const done = await instance(c, "ins-stop0002");
  check(done.LatestOperationState === "SUCCESS" && same(done.LoginSettings.KeyIds, [created]), `done ${JSON.stringify(done)}`);

  const bind = (instances, keys) => ({ InstanceIds: instances, KeyIds: keys });
  await fails(c, "AssociateInstancesKeyPairs", bind(["ins-run00001"], [created]), "UnsupportedOperation.InstanceStateRunning");
  await fails(c, "AssociateInstancesKeyPairs", bind(["ins-win00001"], [created]), "UnsupportedOperation.InstanceOsWindows");
  await fails(c, "AssociateInstancesKeyPairs", bind(["ins-zzzzzzzz"], [created]), "InvalidInstanceId.NotFound");
  await fails(c, "DisassociateInstancesKeyPairs", bind(["ins-stop0002"], ["skey-zzzzzzzz"]), "InvalidKeyPairId.NotFound");

  await call(c, "AssociateInstancesKeyPairs", { ...bind(["ins-run00001"], [imported]), ForceStop: true });
  check((await instance(c, "ins-run00001")).InstanceState === "STOPPED", "ForceStop stops the instance");
  await fails(c, "AssociateInstancesKeyPairs", bind(["ins-run00001"], [created]), "OperationDenied.InstanceOperationInProgress");
  await until("force-stopped association shows", async () => (await instance(c, "ins-run00001")).LatestOperationState === "SUCCESS");
  const after = await instance(c, "ins-run00001");
  check(after.InstanceState === "STOPPED" && same(after.LoginSettings.KeyIds, [imported]), `after ForceStop ${JSON.stringify(after)}`);

  await call(c, "DisassociateInstancesKeyPairs", bind(["ins-stop0002"], [created]));
  await fails(c, "DeleteKeyPairs", { KeyIds: [created] }, "InvalidParameterValue.KeyPairNotSupported");
  await until("disassociation shows", async () => same((await key(c, created)).AssociatedInstanceIds, []));
  await call(c, "DeleteKeyPairs", { KeyIds: [created] });
  check((await key(c, created)) === null, "the created key is deleted");
  await fails(c, "DeleteKeyPairs", { KeyIds: ["skey-seed0002"] }, "InvalidParameterValue.KeyPairNotSupported");
  await fails(c, "DeleteKeyPairs", { KeyIds: ["skey-1122"] }, "InvalidKeyPairId.Malformed");
}

async function main() {
  await scenario(client(), "node_");
  await fails(client("ap-nowhere"), "CreateKeyPair", { KeyName: "x", ProjectId: 0 }, "UnsupportedRegion");
  // GET, flattened as this SDK flattens it.
  const get = client("ap-guangzhou", "GET");
  const byGet = (await call(get, "CreateKeyPair", {
    KeyName: "node_get",
    ProjectId: 0,
    TagSpecification: [{ ResourceType: "keypair", Tags: [{ Key: "via", Value: "get" }] }],
  })).KeyPair.KeyId;
  const found = await call(get, "DescribeKeyPairs", { Filters: [{ Name: "tag:via", Values: ["get"] }] });
  check(same(ids(found.KeyPairSet), [byGet]), `GET tag filter: ${JSON.stringify(found)}`);
  await call(get, "DisassociateInstancesKeyPairs", { InstanceIds: ["ins-run00001"], KeyIds: [byGet], ForceStop: true });
  await call(get, "DeleteKeyPairs", { KeyIds: [byGet] });
  console.log(`node sdk: ${checks} checks passed (${retries} rate-limited requests retried)`);
  agent.destroy();
}

main().catch((e) => {
  console.error(`node sdk: FAILED: ${e.stack || e}`);
  process.exit(1);
});

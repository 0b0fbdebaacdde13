// Azure ML workspaces (Microsoft.MachineLearningServices) through the official JS client,
// @azure/arm-machinelearning 2.1.1, over HTTPS with an @azure/identity credential whose
// authority is this Ingot; plain fetch for the 4xx cases and a Reader's 403.
// The 2.1.1 Workspace model has no `kind` or `hubResourceId` (its api-version is 2022-10-01):
// Hubs and Projects go through the client's own pipeline with sendRequest, as Python's newer
// api-versions send them (reference azure-ml.md §11).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { POLL, RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
const PY_API = "2024-07-01-preview";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: TestServer;
let ml: AzureMachineLearningWorkspaces;
const wsPath = (name: string, group = RG) => `/subscriptions/${SUB}/resourceGroups/${group}/providers/${PROVIDER}/workspaces/${name}`;

const client = (role: string, displayName: string) => mlPrincipal(server, displayName, role).client();
const tokenFor = (role: string, displayName: string) => mlPrincipal(server, displayName, role).token;

const arm = (token: string, method: string, path: string, body?: unknown, apiVersion: string | null = PY_API) => armFetch(server, token, method, path, body, apiVersion);

/** A request through the SDK client's own pipeline (its bearer token), for what the 2.1.1 models cannot say. */
async function viaClient(method: "PUT" | "GET", path: string, body?: unknown) {
  const res = await ml.sendRequest(
    createPipelineRequest({
      url: `${server.url}${path}?api-version=${PY_API}`,
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: createHttpHeaders(body === undefined ? {} : { "content-type": "application/json" }),
    }),
  );
  return { status: res.status, body: JSON.parse(res.bodyAsText ?? "null") };
}

before(async () => {
  server = await startServer({ https: true });
  ml = client("Contributor", "ml-sdk");
});
after(() => server.stop());

test("workspace (Default) through the SDK: create, get, list by group and subscription, update tags, delete", { timeout: 60_000 }, async () => {
  const created = await ml.workspaces.beginCreateOrUpdateAndWait(RG, "sdk-ws", { location: "local", tags: { team: "a" }, friendlyName: "SDK workspace" }, POLL);
  assert.equal(created.id, wsPath("sdk-ws"));
  assert.equal(created.name, "sdk-ws");
  assert.equal(created.type, `${PROVIDER}/workspaces`);
  assert.equal(created.location, "local");
  assert.equal(created.provisioningState, "Succeeded");
  assert.equal(created.friendlyName, "SDK workspace");
  assert.match(created.workspaceId ?? "", GUID);
  assert.equal(created.discoveryUrl, `${server.url}/discovery`);
  assert.ok(created.systemData?.createdAt instanceof Date);

  const got = await ml.workspaces.get(RG, "sdk-ws");
  assert.equal(got.workspaceId, created.workspaceId);
  assert.deepEqual(got.tags, { team: "a" });

  const inGroup = [];
  for await (const w of ml.workspaces.listByResourceGroup(RG)) inGroup.push(w.name);
  assert.deepEqual(inGroup, ["sdk-ws"]);
  const inSub = [];
  for await (const w of ml.workspaces.listBySubscription()) inSub.push(w.name);
  assert.ok(inSub.includes("sdk-ws"));

  const updated = await ml.workspaces.beginUpdateAndWait(RG, "sdk-ws", { tags: { team: "b" }, description: "changed" }, POLL);
  assert.deepEqual(updated.tags, { team: "b" });
  assert.equal(updated.description, "changed");
  assert.equal(updated.workspaceId, created.workspaceId, "the workspaceId is stable");

  await ml.workspaces.beginDeleteAndWait(RG, "sdk-ws", POLL);
  await assert.rejects(ml.workspaces.get(RG, "sdk-ws"), (e: { statusCode?: number; code?: string }) => e.statusCode === 404 && e.code === "ResourceNotFound");
});

test("Hub and Project through the client's pipeline; the SDK reads them; a hub with a project stays until the project goes", { timeout: 60_000 }, async () => {
  const hub = await viaClient("PUT", wsPath("hub1"), { location: "local", kind: "Hub", properties: { friendlyName: "Hub one" } });
  assert.equal(hub.status, 201);
  assert.equal(hub.body.kind, "Hub");
  const project = await viaClient("PUT", wsPath("proj1", "other-group"), { location: "local", kind: "Project", properties: { hubResourceId: wsPath("hub1") } });
  assert.equal(project.status, 201);
  assert.equal(project.body.kind, "Project");
  assert.equal(project.body.properties.hubResourceId, wsPath("hub1"));
  assert.equal(project.body.id, wsPath("proj1", "other-group"));
  assert.equal(project.body.properties.provisioningState, "Succeeded");
  assert.match(project.body.properties.workspaceId, GUID);
  assert.notEqual(project.body.properties.workspaceId, hub.body.properties.workspaceId);
  assert.equal((await viaClient("PUT", wsPath("hub1"), { location: "local", kind: "Hub" })).status, 200, "a second PUT updates");
  // The hub's AIServices account (its fine-tuning jobs' OpenAI-style view); the project shares it.
  const accountId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/hub1-ais`;
  assert.equal(hub.body.properties.associatedAccountResourceId, accountId);
  assert.equal(project.body.properties.associatedAccountResourceId, accountId);
  assert.equal(server.ingot.accounts.get("hub1-ais")?.kind, "AIServices");

  const sdkProject = await ml.workspaces.get("other-group", "proj1");
  assert.equal(sdkProject.workspaceId, project.body.properties.workspaceId);
  const inSub = [];
  for await (const w of ml.workspaces.listBySubscription()) inSub.push(w.name);
  assert.deepEqual(inSub.sort(), ["hub1", "proj1"]);

  await assert.rejects(ml.workspaces.beginDeleteAndWait(RG, "hub1", POLL), (e: { statusCode?: number; code?: string }) => e.statusCode === 409 && e.code === "HubHasProjects");
  await ml.workspaces.beginDeleteAndWait("other-group", "proj1", POLL);
  await ml.workspaces.beginDeleteAndWait(RG, "hub1", POLL);
  assert.equal((await viaClient("GET", wsPath("hub1"))).status, 404);
  assert.equal(server.ingot.accounts.get("hub1-ais"), undefined, "the account made for the hub goes with it");
});

test("bad input is an ARM-shaped 400 that says what to change, and nothing is created", { timeout: 60_000 }, async () => {
  const token = tokenFor("Contributor", "ml-plain");
  const cases: [string, unknown, string, RegExp][] = [
    ["ab", { location: "local" }, "InvalidWorkspaceName", /3 to 33 characters/],
    ["-bad-start", { location: "local" }, "InvalidWorkspaceName", /starting with a letter or digit/],
    ["lab1", { location: "local", kind: "Lab" }, "InvalidWorkspaceKind", /Default, Hub, Project/],
    ["proj2", { location: "local", kind: "Project" }, "InvalidHubResourceId", /hubResourceId/],
    ["proj3", { location: "local", kind: "Project", properties: { hubResourceId: wsPath("no-such-hub") } }, "HubNotFound", /Create the hub/],
    ["tags1", { location: "local", tags: { a: 1 } }, "InvalidRequestContent", /must be a string/],
  ];
  for (const [name, body, code, message] of cases) {
    const res = await arm(token, "PUT", wsPath(name), body);
    assert.equal(res.status, 400, name);
    const err = (await json(res)).error;
    assert.equal(err.code, code, name);
    assert.match(err.message, message, name);
    // Azure ML's front end sends ARM's full ErrorResponse.
    assert.deepEqual(err.details, [], name);
    assert.deepEqual(err.additionalInfo, [{ type: "ComponentName", info: { value: "managementfrontend" } }], name);
    assert.equal((await arm(token, "GET", wsPath(name))).status, 404, `${name} was not created`);
  }
  const noVersion = await arm(token, "GET", wsPath("anything"), undefined, null);
  assert.equal(noVersion.status, 400);
  assert.equal((await json(noVersion)).error.code, "MissingApiVersionParameter");
  const missing = await arm(token, "GET", wsPath("nothere"));
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).error.code, "ResourceNotFound");
  assert.equal((await arm(token, "DELETE", wsPath("nothere"))).status, 204);
});

test("a Reader reads workspaces and gets ARM's 403 on every write", { timeout: 60_000 }, async () => {
  const owner = tokenFor("Contributor", "ml-owner");
  assert.equal((await arm(owner, "PUT", wsPath("shared-ws"), { location: "local" })).status, 201);
  const reader = tokenFor("Reader", "ml-reader");
  assert.equal((await arm(reader, "GET", wsPath("shared-ws"))).status, 200);
  const listed = await json(await arm(reader, "GET", `/subscriptions/${SUB}/providers/${PROVIDER}/workspaces`));
  assert.ok(listed.value.some((w: { name: string }) => w.name === "shared-ws"));
  for (const [method, body] of [["PUT", { location: "local" }], ["PATCH", { tags: { a: "b" } }], ["DELETE", undefined]] as const) {
    const res = await arm(reader, method, wsPath("shared-ws"), body);
    assert.equal(res.status, 403, method);
    assert.equal((await json(res)).error.code, "AuthorizationFailed", method);
  }
  const res = await arm(reader, "PUT", wsPath("reader-new"), { location: "local" });
  assert.equal(res.status, 403);
  assert.equal((await arm(owner, "GET", wsPath("reader-new"))).status, 404);
  assert.equal((await arm(owner, "GET", wsPath("shared-ws"))).status, 200, "still there");
});

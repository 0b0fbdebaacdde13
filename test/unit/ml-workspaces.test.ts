// Azure ML workspace rules (core/ml/workspaces.ts) over the SQLite adapter, with the real
// migrations: names, kinds, hubs of projects, a stable workspaceId, location, case-insensitive
// names, and a hub that keeps its projects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkspaceService, workspaceArmId } from "../../src/core/ml/workspaces.ts";
import { AccountService } from "../../src/core/accounts/service.ts";
import { WORKSPACE_TAG } from "../../src/core/ml/workspace-accounts.ts";
import { mlBed } from "./ml-bed.ts";
import { caught } from "./caught.ts";

const bed = mlBed("ingot-ml-ws-");
const S = "00000000-0000-0000-0000-000000000000";
let lastAccounts: AccountService;
function service(): WorkspaceService {
  const { accounts, workspaces } = bed.fresh({ start: 1_000 });
  lastAccounts = accounts;
  return workspaces;
}
const hubId = (name: string, group = "rg") => workspaceArmId({ subscription: S, resourceGroup: group, name });

test("a workspace gets a GUID workspaceId that stays across updates, Ingot's location, and kind Default", () => {
  const ws = service();
  const { workspace, created } = ws.createOrUpdate(S, "rg", "ws1", { tags: { a: "1" } });
  assert.equal(created, true);
  assert.match(workspace.workspaceId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(workspace.location, "local");
  assert.equal(workspace.kind, "Default");
  assert.equal(workspace.friendlyName, "ws1");
  const again = ws.createOrUpdate(S, "rg", "WS1", { tags: { a: "2" } });
  assert.equal(again.created, false);
  assert.equal(again.workspace.name, "ws1", "names are case-insensitive; the first spelling stays");
  assert.equal(again.workspace.workspaceId, workspace.workspaceId);
  const patched = ws.update(S, "RG", "ws1", { tags: { b: "3" }, friendlyName: "My WS" });
  assert.equal(patched.workspaceId, workspace.workspaceId);
  assert.deepEqual(ws.require(S, "rg", "ws1").tags, { b: "3" });
  assert.equal(ws.require(S, "rg", "ws1").friendlyName, "My WS");
});

test("names: 3 to 33 letters, digits, hyphens, underscores, starting with a letter or digit", () => {
  const ws = service();
  for (const bad of ["ab", "a".repeat(34), "-abc", "_abc", "a.bc", "a bc", "ab/c"]) {
    const e = caught(() => ws.createOrUpdate(S, "rg", bad, {}));
    assert.equal(e.status, 400, bad);
    assert.equal(e.code, "InvalidWorkspaceName");
    assert.match(e.message, /3 to 33 characters/);
  }
  for (const good of ["abc", "a".repeat(33), "9a_b-c"]) assert.equal(ws.createOrUpdate(S, "rg", good, {}).created, true, good);
});

test("kind: any casing of Default, Hub, Project; anything else is a 400; it cannot change", () => {
  const ws = service();
  assert.equal(ws.createOrUpdate(S, "rg", "hub1", { kind: "hub" }).workspace.kind, "Hub");
  const e = caught(() => ws.createOrUpdate(S, "rg", "ws2", { kind: "Lab" }));
  assert.equal(e.status, 400);
  assert.equal(e.code, "InvalidWorkspaceKind");
  assert.match(e.message, /Default, Hub, Project/);
  assert.equal(ws.get(S, "rg", "ws2"), undefined, "nothing half-created");
  assert.equal(caught(() => ws.createOrUpdate(S, "rg", "hub1", { kind: "Default" })).code, "InvalidWorkspaceKind");
  assert.equal(ws.createOrUpdate(S, "rg", "hub1", {}).workspace.kind, "Hub", "a PUT without kind keeps it");
});

test("a Project needs an existing Hub in the same subscription as hubResourceId", () => {
  const ws = service();
  ws.createOrUpdate(S, "rg", "hub1", { kind: "Hub" });
  ws.createOrUpdate(S, "rg", "plain", {});
  const cases: [unknown, string][] = [
    [undefined, "InvalidHubResourceId"],
    ["hub1", "InvalidHubResourceId"],
    [hubId("nohub"), "HubNotFound"],
    [workspaceArmId({ subscription: "11111111-1111-1111-1111-111111111111", resourceGroup: "rg", name: "hub1" }), "HubNotFound"],
    [hubId("plain"), "InvalidHubResourceId"],
    [42, "InvalidRequestContent"],
  ];
  for (const [hubResourceId, code] of cases) {
    const e = caught(() => ws.createOrUpdate(S, "rg", "proj1", { kind: "Project", hubResourceId }));
    assert.equal(e.status, 400, String(hubResourceId));
    assert.equal(e.code, code, String(hubResourceId));
    assert.equal(ws.get(S, "rg", "proj1"), undefined);
  }
  const p = ws.createOrUpdate(S, "rg", "proj1", { kind: "Project", hubResourceId: hubId("HUB1", "RG").toLowerCase() }).workspace;
  assert.equal(p.hubResourceId, hubId("hub1"), "stored as the hub's own id");
  assert.equal(caught(() => ws.createOrUpdate(S, "rg", "other", { kind: "Hub", hubResourceId: hubId("hub1") })).code, "InvalidHubResourceId");
});

test("a hub with projects cannot be deleted; after its projects it can; deleting twice says there was none", () => {
  const ws = service();
  ws.createOrUpdate(S, "rg", "hub1", { kind: "Hub" });
  ws.createOrUpdate(S, "rg2", "proj1", { kind: "Project", hubResourceId: hubId("hub1") });
  const e = caught(() => ws.delete(S, "rg", "hub1"));
  assert.equal(e.status, 409);
  assert.match(e.message, /proj1/);
  assert.equal(ws.delete(S, "rg2", "proj1"), true);
  assert.equal(ws.delete(S, "rg", "hub1"), true);
  assert.equal(ws.delete(S, "rg", "hub1"), false);
  assert.equal(caught(() => ws.require(S, "rg", "hub1")).status, 404);
});

test("location: given or Ingot's; a workspace cannot move", () => {
  const ws = service();
  assert.equal(ws.createOrUpdate(S, "rg", "east", { location: "eastus2" }).workspace.location, "eastus2");
  assert.equal(caught(() => ws.createOrUpdate(S, "rg", "east", { location: "westus" })).code, "InvalidLocation");
  assert.equal(ws.createOrUpdate(S, "rg", "east", {}).workspace.location, "eastus2");
});

test("lists per resource group and per subscription", () => {
  const ws = service();
  ws.createOrUpdate(S, "rg1", "aaa", {});
  ws.createOrUpdate(S, "rg2", "bbb", {});
  ws.createOrUpdate("11111111-1111-1111-1111-111111111111", "rg1", "ccc", {});
  assert.deepEqual(ws.list({ subscription: S, resourceGroup: "RG1" }).map((w) => w.name), ["aaa"]);
  assert.deepEqual(ws.list({ subscription: S }).map((w) => w.name), ["aaa", "bbb"]);
});

test("a Hub or Default workspace gets its own AIServices account, a Project uses its hub's; deleting the workspace deletes only the account made for it", () => {
  const ws = service();
  const accounts = lastAccounts;
  const hub = ws.createOrUpdate(S, "rg", "hub1", { kind: "Hub" }).workspace;
  assert.equal(hub.account, "hub1-ais");
  const a = accounts.get("hub1-ais")!;
  assert.equal(a.kind, "AIServices");
  assert.equal(a.resourceGroup, "rg");
  assert.equal(a.tags[WORKSPACE_TAG], workspaceArmId(hub));
  const project = ws.createOrUpdate(S, "rg2", "proj1", { kind: "Project", hubResourceId: hubId("hub1") }).workspace;
  assert.equal(project.account, "hub1-ais");
  assert.equal(ws.getByWorkspaceId(project.workspaceId.toUpperCase())?.name, "proj1");
  // An update keeps the account; a taken name falls back to one with the GUID.
  assert.equal(ws.createOrUpdate(S, "rg", "hub1", { tags: { x: "1" } }).workspace.account, "hub1-ais");
  accounts.createOrUpdate(S, "other", "ws2-ais", { location: "local" });
  const ws2 = ws.createOrUpdate(S, "rg", "ws2", {}).workspace;
  assert.equal(ws2.account, `ws2-${ws2.workspaceId.slice(0, 8)}`);
  const deleted: string[] = [];
  ws.onDelete((w) => deleted.push(w.name));
  ws.delete(S, "rg2", "proj1");
  assert.ok(accounts.get("hub1-ais"), "a project's delete leaves its hub's account");
  ws.delete(S, "rg", "hub1");
  ws.delete(S, "rg", "ws2");
  assert.deepEqual(deleted, ["proj1", "hub1", "ws2"]);
  assert.equal(accounts.get("hub1-ais"), undefined);
  assert.equal(accounts.get(`ws2-${ws2.workspaceId.slice(0, 8)}`), undefined);
  assert.ok(accounts.get("ws2-ais"), "an account Ingot did not make for the workspace stays");
});

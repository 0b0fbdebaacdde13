// deploy/k8s renders (kubectl kustomize, where kubectl is installed; else the same objects are
// assembled from the kustomization's files here) into objects that fit together: Ingot replicas
// with probes on /healthz and /readyz, their database, Redis and blob settings from a Secret that
// has those keys, a PodDisruptionBudget that leaves replicas serving, Services that select their
// pods, and a vLLM engine whose served model and Service match the upstream catalog entry mounted
// as --catalog-dir (which Ingot's own catalog validation accepts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { validateCatalogFile } from "../../src/core/catalog/validate.ts";

const DIR = fileURLToPath(new URL("../../deploy/k8s/", import.meta.url));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = any;

function render(): { objects: K8sObject[]; by: "kubectl" | "files" } {
  const kubectl = spawnSync("kubectl", ["kustomize", DIR], { encoding: "utf8", timeout: 60_000 });
  if (!kubectl.error) {
    assert.equal(kubectl.status, 0, `kubectl kustomize failed: ${kubectl.stderr}`);
    return { objects: parseAllDocuments(kubectl.stdout).map((d) => d.toJSON()), by: "kubectl" };
  }
  // No kubectl (CI images may lack it): the kustomization's resources and generated ConfigMap, namespaced as kustomize would.
  const k = parse(readFileSync(join(DIR, "kustomization.yaml"), "utf8"));
  const objects: K8sObject[] = (k.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), "utf8")).map((d) => d.toJSON()));
  for (const g of k.configMapGenerator ?? [])
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data: Object.fromEntries((g.files as string[]).map((f) => [f.split("/").pop(), readFileSync(join(DIR, f), "utf8")])) });
  for (const o of objects) if (o.kind !== "Namespace") o.metadata.namespace = k.namespace;
  return { objects, by: "files" };
}

test("deploy/k8s renders Ingot replicas, their Secret, PDB and Service, and a vLLM engine with its matching upstream catalog entry", (t) => {
  const { objects, by } = render();
  t.diagnostic(`rendered by ${by}: ${objects.length} objects`);
  const find = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && (x.metadata.name === name || (kind === "ConfigMap" && x.metadata.name.startsWith(`${name}-`))));
    assert.ok(o, `${kind} ${name} is rendered`);
    return o;
  };
  for (const o of objects) {
    assert.ok(o.apiVersion && o.kind && o.metadata?.name, `every object has apiVersion, kind and name: ${JSON.stringify(o).slice(0, 100)}`);
    if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, "ingot", `${o.kind} ${o.metadata.name} is in namespace ingot`);
  }

  const ingot = find("Deployment", "ingot");
  const pod = ingot.spec.template.spec;
  const c = pod.containers[0];
  assert.ok(ingot.spec.replicas >= 2, "several replicas");
  assert.deepEqual(ingot.spec.selector.matchLabels, { "app.kubernetes.io/name": "ingot" });
  assert.equal(ingot.spec.template.metadata.labels["app.kubernetes.io/name"], "ingot");
  assert.equal(c.args[0], "up");
  const port = (name: string) => c.ports.find((p: K8sObject) => p.name === name)?.containerPort;
  assert.equal(port("http"), 8080);
  assert.ok(c.args.includes("--port=8080") && c.args.includes("--host=0.0.0.0"));
  assert.equal(c.livenessProbe.httpGet.path, "/healthz");
  assert.equal(c.readinessProbe.httpGet.path, "/readyz");
  assert.equal(c.startupProbe.httpGet.path, "/healthz");

  // Settings from the Secret, under the names `ingot up` reads, with keys the Secret has.
  const secret = find("Secret", "ingot-secrets");
  const env = Object.fromEntries(c.env.map((e: K8sObject) => [e.name, e.valueFrom?.secretKeyRef]));
  for (const name of ["INGOT_DATABASE_URL", "INGOT_REDIS_URL", "INGOT_BLOB_STORE", "INGOT_API_KEY"]) {
    assert.equal(env[name]?.name, "ingot-secrets", `${name} comes from the Secret`);
    assert.ok(Object.hasOwn(secret.stringData ?? secret.data, env[name].key), `the Secret has key ${env[name].key}`);
  }
  assert.match((secret.stringData ?? {})["database-url"], /^postgres:\/\//);
  assert.match((secret.stringData ?? {})["redis-url"], /^redis:\/\//);

  // The upstream catalog: a ConfigMap mounted where --catalog-dir points.
  const dirArg = c.args.find((a: string) => a.startsWith("--catalog-dir="))?.slice("--catalog-dir=".length);
  const mount = c.volumeMounts.find((m: K8sObject) => m.mountPath === dirArg);
  assert.ok(mount, "--catalog-dir is a mounted volume");
  const volume = pod.volumes.find((v: K8sObject) => v.name === mount.name);
  const catalogMap = find("ConfigMap", "ingot-upstream-catalog");
  assert.equal(volume.configMap.name, catalogMap.metadata.name, "the volume names the (generated) ConfigMap");
  const [file, text] = Object.entries(catalogMap.data as Record<string, string>)[0];
  const entries = validateCatalogFile(JSON.parse(text), file);
  const upstreamEntry = entries.find((m) => m.engine === "upstream" && m.upstream);
  assert.ok(upstreamEntry, "an upstream entry that Ingot's catalog validation accepts");

  const pdb = find("PodDisruptionBudget", "ingot");
  assert.deepEqual(pdb.spec.selector.matchLabels, ingot.spec.selector.matchLabels);
  assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < ingot.spec.replicas, "a drain can proceed and replicas keep serving");

  const service = find("Service", "ingot");
  assert.deepEqual(service.spec.selector, ingot.spec.selector.matchLabels);
  assert.ok(service.spec.ports.every((p: K8sObject) => c.ports.some((cp: K8sObject) => cp.name === p.targetPort)));

  // The vLLM engine: a GPU, the served model name and the Service the catalog entry points at.
  const vllm = find("Deployment", "vllm-llama");
  const v = vllm.spec.template.spec.containers[0];
  assert.equal(v.resources.limits["nvidia.com/gpu"], 1);
  assert.ok(v.args.includes("--enable-lora"));
  const served = v.args.find((a: string) => a.startsWith("--served-model-name="))?.split("=")[1];
  assert.equal(upstreamEntry.upstream!.model, served, "the catalog entry asks for the model vLLM serves");
  const vservice = find("Service", "vllm-llama");
  assert.deepEqual(vservice.spec.selector, vllm.spec.selector.matchLabels);
  const urls = [upstreamEntry.upstream!.baseUrl].flat();
  for (const u of urls) {
    const url = new URL(u);
    assert.equal(url.hostname, `${vservice.metadata.name}.${vservice.metadata.namespace}.svc`);
    assert.equal(Number(url.port), vservice.spec.ports[0].port);
    assert.equal(url.pathname, "/v1");
  }
  assert.equal(vservice.spec.ports[0].targetPort, v.ports[0].name);
});

#!/usr/bin/env node
// Checks the Kubernetes manifests under deploy/kustomize, offline and fast.
//
//   node deploy/validate.mjs            static checks, plus rendering with
//                                       `kubectl kustomize` when kubectl exists
//   node deploy/validate.mjs --static   static checks only
//
// Static checks (no YAML library: only the few keys needed, read by regex):
//   - every .yaml file: no tabs, indentation in steps of two spaces
//   - every overlay and component: each file named in resources, components,
//     patches and generator `files` exists; each manifest document has
//     apiVersion, kind and metadata.name, once each; patches without a `target` name a
//     resource that the overlay builds
// Rendered checks (kubectl): every overlay, and one extra overlay with every
// component, renders; each object has apiVersion/kind/metadata.name, a unique
// kind/name and namespace t2v; every workload container runs read-only, drops
// all capabilities and has resource limits; every pod runs as non-root;
// overlays pin images to a tag; nats-server includes the NATS users and reads
// their passwords from the Secret nats-credentials, and every service workload
// connects as its own user with its key of that Secret; KEDA triggers name the streams and consumers
// of packages/common/src/channels/ (an inference consumer per POOLS, in the
// order of packages/common/src/task/tiers.ts).
// Prints "N passed, M failed" and exits 1 when M > 0.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "kustomize");
const NAMESPACE = "t2v";
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);
/** Overlays and components in the order production uses them; model-volume after gpu-pools. */
const ALL_COMPONENTS = ["gpu-pools", "nats-cluster", "network-policies", "keda", "otel", "model-volume"];
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.error(`FAIL ${what}`);
  }
  return ok;
}

const TOPOLOGY = readTopology();

const rel = (p) => relative(process.cwd(), p) || ".";
const dirs = (p) =>
  existsSync(p)
    ? readdirSync(p)
        .filter((n) => statSync(join(p, n)).isDirectory())
        .sort()
    : [];

// ---------------------------------------------------------------- tiny YAML readers

function stripComment(line) {
  if (/^\s*#/.test(line)) return "";
  const i = line.search(/\s#/);
  return i === -1 ? line : line.slice(0, i);
}

/** Items of a top-level list: for `key:` returns each `- x` entry's lines. */
function listItems(text, key) {
  const lines = text.split("\n").map(stripComment);
  const start = lines.findIndex((l) => l === `${key}:` || l.startsWith(`${key}: `));
  if (start === -1) return [];
  const items = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i];
    if (/^\S/.test(l)) break; // next top-level key
    const m = /^(\s*)- ?(.*)$/.exec(l);
    if (m && (items.length === 0 || m[1].length <= items[0].indent)) items.push({ indent: m[1].length, lines: [m[2]] });
    else if (items.length > 0 && l.trim() !== "") items[items.length - 1].lines.push(l.trim());
  }
  return items.map((it) => it.lines);
}

const unquote = (s) => s.trim().replace(/^["']|["']$/g, "");

/** Scalar entries of a top-level list (`resources:`, `components:`). */
function scalarList(text, key) {
  return listItems(text, key).map((lines) => unquote(lines[0]));
}

/** `path:` of each patch (plus whether it has a target), and inline-patch count. */
function patchPaths(text) {
  const out = [];
  for (const key of ["patches", "patchesStrategicMerge"]) {
    for (const lines of listItems(text, key)) {
      const path = lines.map((l) => /^path:\s*(.+)$/.exec(l)).find(Boolean);
      if (key === "patchesStrategicMerge") out.push({ path: unquote(lines[0]), target: false });
      else if (path) out.push({ path: unquote(path[1]), target: lines.some((l) => l.startsWith("target:")) });
    }
  }
  return out;
}

/** Files of configMapGenerator/secretGenerator entries (`key=file` or `file`). */
function generatorFiles(text) {
  const files = [];
  for (const key of ["configMapGenerator", "secretGenerator"]) {
    const lines = text.split("\n").map(stripComment);
    const start = lines.findIndex((l) => l.startsWith(`${key}:`));
    if (start === -1) continue;
    let inFiles = false;
    for (let i = start + 1; i < lines.length && !/^\S/.test(lines[i]); i++) {
      const l = lines[i];
      if (/^\s*(- )?files:\s*$/.test(l)) inFiles = true;
      else if (/^\s*(- )?\w+:/.test(l)) inFiles = false;
      else if (inFiles) {
        const m = /^\s*- (.+)$/.exec(l);
        if (m) files.push(unquote(m[1]).split("=").pop());
      }
    }
  }
  return files;
}

/** apiVersion, kind, metadata.name (and namespace) of each document. */
function documents(text) {
  return text
    .split(/^---\s*$/m)
    .map((d) => d.split("\n").map(stripComment).join("\n"))
    .filter((d) => d.trim() !== "")
    .map((d) => {
      const meta = /^metadata:[ \t]*\n((?:[ \t]+.*\n?|\s*\n)*)/m.exec(d)?.[1] ?? "";
      return {
        apiVersion: /^apiVersion:\s*(\S+)/m.exec(d)?.[1],
        kind: /^kind:\s*(\S+)/m.exec(d)?.[1],
        name: /^ {2}name:\s*(\S+)/m.exec(meta)?.[1],
        namespace: /^ {2}namespace:\s*(\S+)/m.exec(meta)?.[1],
        text: d,
      };
    });
}

// ---------------------------------------------------------------- static checks

function checkYamlStyle() {
  const walk = (d) =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : n.endsWith(".yaml") ? [p] : [];
    });
  for (const file of walk(ROOT)) {
    const lines = readFileSync(file, "utf8").split("\n");
    const tab = lines.findIndex((l) => l.includes("\t"));
    check(tab === -1, `${rel(file)}:${tab + 1}: tab character`);
    const odd = lines.findIndex((l) => !/^\s*#/.test(l) && /^( *)/.exec(l)[1].length % 2 === 1);
    check(odd === -1, `${rel(file)}:${odd + 1}: indentation is not a multiple of two spaces`);
  }
}

const docsChecked = new Set();

/**
 * Walks a kustomization (overlay, base or component) and returns the
 * kind/name of every resource it builds. Reports missing files.
 */
function walkKustomization(dir, seen = new Map()) {
  if (seen.has(dir)) return seen.get(dir);
  const built = new Set();
  seen.set(dir, built);
  const kfile = join(dir, "kustomization.yaml");
  if (!check(existsSync(kfile), `${rel(dir)}: kustomization.yaml missing`)) return built;
  const text = readFileSync(kfile, "utf8");
  check(
    /^apiVersion:\s*kustomize\.config\.k8s\.io\//m.test(text) && /^kind:\s*(Kustomization|Component)\s*$/m.test(text),
    `${rel(kfile)}: apiVersion/kind of a Kustomization or Component`,
  );

  const addDocs = (file, into) => {
    const docs = documents(readFileSync(file, "utf8"));
    const first = !docsChecked.has(file); // base files are reached from every overlay
    docsChecked.add(file);
    if (first) check(docs.length > 0, `${rel(file)}: no YAML documents`);
    for (const [i, d] of docs.entries()) {
      if (!first) {
        if (into && d.kind && d.name) into.add(`${d.kind}/${d.name}`);
        continue;
      }
      check(d.apiVersion && d.kind && d.name, `${rel(file)} document ${i + 1}: apiVersion, kind and metadata.name`);
      const twice = ["apiVersion", "kind", "metadata"].find(
        (k) => d.text.match(new RegExp(`^${k}:`, "gm"))?.length > 1,
      );
      check(!twice, `${rel(file)} document ${i + 1}: ${twice} appears twice (missing ---?)`);
      if (into && d.kind && d.name) into.add(`${d.kind}/${d.name}`);
    }
  };

  const entries = [
    ...scalarList(text, "resources").map((p) => ({ p, what: "resource" })),
    ...scalarList(text, "components").map((p) => ({ p, what: "component" })),
  ];
  for (const { p, what } of entries) {
    const target = resolve(dir, p);
    if (!check(existsSync(target), `${rel(kfile)}: ${what} ${p} does not exist`)) continue;
    if (statSync(target).isDirectory()) for (const r of walkKustomization(target, seen)) built.add(r);
    else addDocs(target, built);
  }
  // Generated ConfigMaps are resources too (patch targets, merges).
  for (const m of text.matchAll(/^\s*- name:\s*(\S+)/gm)) {
    const before = text.slice(0, m.index);
    const section = [...before.matchAll(/^(\w+):/gm)].pop()?.[1];
    if (section === "configMapGenerator") built.add(`ConfigMap/${m[1]}`);
  }
  for (const f of generatorFiles(text))
    check(existsSync(resolve(dir, f)), `${rel(kfile)}: generator file ${f} does not exist`);
  const patches = patchPaths(text);
  for (const { path } of patches) {
    const file = resolve(dir, path);
    if (check(existsSync(file), `${rel(kfile)}: patch ${path} does not exist`)) addDocs(file, null);
  }
  // Stash untargeted patches; they are checked against the whole overlay.
  built.patches = patches.filter((x) => !x.target).map((x) => resolve(dir, x.path));
  return built;
}

function checkStatic() {
  checkYamlStyle();
  const components = dirs(join(ROOT, "components"));
  for (const c of components) {
    const text = readFileSync(join(ROOT, "components", c, "kustomization.yaml"), "utf8");
    check(/^kind:\s*Component\s*$/m.test(text), `components/${c}: kind Component`);
  }
  for (const c of ALL_COMPONENTS) check(components.includes(c), `components/${c} exists`);
  checkWebhookEgress();

  for (const overlay of dirs(join(ROOT, "overlays"))) {
    const seen = new Map();
    const built = walkKustomization(join(ROOT, "overlays", overlay), seen);
    // A patch without a target must name something that this overlay builds.
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    for (const s of seen.values()) {
      for (const file of s.patches ?? []) {
        if (!existsSync(file)) continue;
        for (const d of documents(readFileSync(file, "utf8"))) {
          check(
            all.has(`${d.kind}/${d.name}`),
            `overlays/${overlay}: patch ${rel(file)} targets missing ${d.kind}/${d.name}`,
          );
        }
      }
    }
    check(built.size > 0, `overlays/${overlay}: builds resources`);
  }
}

/** The gateway's webhook egress: public IPv4 and IPv6 only, every private range excepted. */
function checkWebhookEgress() {
  const file = join(ROOT, "components", "network-policies", "network-policies.yaml");
  const doc = documents(readFileSync(file, "utf8")).find((d) => d.name === "gateway-webhook-egress");
  if (!check(doc !== undefined, "network-policies: NetworkPolicy/gateway-webhook-egress exists")) return;
  check(/app\.kubernetes\.io\/name: gateway\s*$/m.test(doc.text), "gateway-webhook-egress: selects the gateway");
  for (const cidr of ["0.0.0.0/0", "::/0"])
    check(doc.text.includes(`cidr: ${cidr}`), `gateway-webhook-egress: ${cidr}`);
  const excepted = new Set([...doc.text.matchAll(/^\s+- ([0-9a-f:.]+\/\d+)\s*$/gm)].map((m) => m[1]));
  for (const cidr of [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
  ])
    check(excepted.has(cidr), `gateway-webhook-egress: excepts ${cidr}`);
}

// ---------------------------------------------------------------- rendered checks

/** Runs `kubectl kustomize dir`; null when kubectl is not installed. */
function kubectlKustomize(dir) {
  return new Promise((done) => {
    const child = spawn("kubectl", ["kustomize", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.on("error", (err) => done(err.code === "ENOENT" ? null : { status: -1, stdout, stderr: String(err) }));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

/**
 * Stream and consumer names, and pool order, as the services define them: the
 * channel modules own the names, tiers.ts the order. Missing files fail the
 * check instead of skipping it.
 */
function readTopology() {
  const channels = join(ROOT, "../../packages/common/src/channels");
  const tiers = join(ROOT, "../../packages/common/src/task/tiers.ts");
  if (!check(existsSync(channels) && existsSync(tiers), `stream and consumer names: ${channels} and ${tiers} exist`))
    return null;
  const text = readdirSync(channels)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => readFileSync(join(channels, f), "utf8"))
    .join("\n");
  const pools = /TIERS\s*=\s*\[([^\]]*)\]/
    .exec(readFileSync(tiers, "utf8"))?.[1]
    .match(/"([^"]+)"/g)
    ?.map((q) => q.slice(1, -1));
  check(pools !== undefined && pools.length > 0, "pool order read from tiers.ts");
  return { text, pools: pools ?? [] };
}

/**
 * KEDA triggers must name streams and consumers that exist: for a missing
 * consumer the nats-jetstream scaler reports the stream's last sequence as
 * the lag and scales to the maximum. An inference consumer is named after the
 * worker group, i.e. the Deployment's POOLS in priority order.
 */
function checkScaling(label, docs, topology) {
  const byId = new Map(docs.map((d) => [`${d.kind}/${d.name}`, d]));
  for (const so of docs.filter((d) => d.kind === "ScaledObject")) {
    const target = /^\s+scaleTargetRef:\n(?:\s+\w+: \S+\n)*?\s+name: (\S+)/m.exec(so.text)?.[1];
    const deployment = byId.get(`Deployment/${target}`);
    if (!check(deployment, `${label}: ScaledObject/${so.name} targets missing Deployment/${target}`)) continue;
    const streams = [...so.text.matchAll(/^\s+stream: (\S+)$/gm)].map((m) => m[1]);
    const consumers = [...so.text.matchAll(/^\s+consumer: (\S+)$/gm)].map((m) => m[1]);
    const queries = [...so.text.matchAll(/^\s+query: (.+)$/gm)].map((m) => m[1]);
    check(
      (consumers.length > 0 && consumers.length === streams.length) ||
        (queries.length > 0 && queries.every((q) => /t2v_queue_depth|t2v_tasks_in_flight/.test(q))),
      `${label}: ScaledObject/${so.name} scales on stream+consumer lag or on the scheduler's queue metrics`,
    );
    const pools = /- name: POOLS\n\s+value: (\S+)/.exec(deployment.text)?.[1].split(",");
    for (const [i, consumer] of consumers.entries()) {
      if (!topology) continue;
      check(
        topology.text.includes(`"${streams[i]}"`),
        `${label}: ScaledObject/${so.name}: unknown stream ${streams[i]}`,
      );
      if (pools) {
        const group = topology.pools.filter((p) => pools.includes(p)).join("-");
        check(
          consumer === `inference-${group}`,
          `${label}: ScaledObject/${so.name}: consumer ${consumer}, but POOLS=${pools} pulls from inference-${group}`,
        );
      } else {
        check(
          topology.text.includes(`"${consumer}"`),
          `${label}: ScaledObject/${so.name}: unknown consumer ${consumer}`,
        );
      }
    }
  }
}

function checkRendered(label, yaml, { pinnedImages }) {
  const docs = documents(yaml);
  const ids = new Set();
  for (const d of docs) {
    const id = `${d.kind}/${d.name}`;
    check(d.apiVersion && d.kind && d.name, `${label}: object without apiVersion/kind/metadata.name`);
    check(!ids.has(id), `${label}: duplicate ${id}`);
    ids.add(id);
    if (!CLUSTER_SCOPED.has(d.kind)) check(d.namespace === NAMESPACE, `${label}: ${id} not in namespace ${NAMESPACE}`);
    if (!WORKLOADS.has(d.kind)) continue;

    const images = [...d.text.matchAll(/^\s+image:\s*(\S+)/gm)].map((m) => m[1]);
    const count = (re) => [...d.text.matchAll(re)].length;
    check(images.length > 0, `${label}: ${id} has containers`);
    check(/^\s+runAsNonRoot: true$/m.test(d.text), `${label}: ${id} runAsNonRoot`);
    check(
      count(/^\s+readOnlyRootFilesystem: true$/gm) === images.length,
      `${label}: ${id} readOnlyRootFilesystem on every container`,
    );
    check(
      count(/^\s+drop:\n\s+- ALL$/gm) === images.length,
      `${label}: ${id} drops ALL capabilities on every container`,
    );
    check(
      count(/^\s+allowPrivilegeEscalation: false$/gm) === images.length,
      `${label}: ${id} allowPrivilegeEscalation false`,
    );
    check(count(/^\s+limits:$/gm) === images.length, `${label}: ${id} resource limits on every container`);
    if (pinnedImages) {
      for (const image of images) check(/[:@]/.test(image), `${label}: ${id} image ${image} has no tag`);
    }
  }
  checkScaling(label, docs, TOPOLOGY);
  checkNatsReplicas(label, docs);
  checkNatsUsers(label, docs);
  return ids;
}

/**
 * NATS access control: the server's configuration includes the users and permissions
 * (nats-authorization.conf) and reads their passwords from the Secret nats-credentials;
 * every workload running a service connects as that service's user, with its password
 * from the same Secret.
 */
function checkNatsUsers(label, docs) {
  const config = docs.find((d) => d.kind === "ConfigMap" && d.name.startsWith("nats-config"));
  if (check(config, `${label}: renders ConfigMap nats-config`)) {
    check(/^\s+nats-authorization\.conf: \|/m.test(config.text), `${label}: nats-config has nats-authorization.conf`);
    check(/^\s+include \.\/nats-authorization\.conf$/m.test(config.text), `${label}: nats.conf includes the users`);
  }
  const nats = docs.find((d) => d.kind === "StatefulSet" && d.name === "nats");
  if (nats) {
    check(
      /secretRef:\n\s+name: nats-credentials$/m.test(nats.text),
      `${label}: nats reads the passwords from Secret nats-credentials`,
    );
  }
  for (const d of docs.filter((x) => WORKLOADS.has(x.kind))) {
    const service = /services\/(\w+)\/dist\/main\.js/.exec(d.text)?.[1];
    if (!service) continue;
    check(
      new RegExp(`- name: NATS_USER\\n\\s+value: ${service}$`, "m").test(d.text),
      `${label}: ${d.kind}/${d.name} connects as NATS user ${service}`,
    );
    check(
      new RegExp(
        `- name: NATS_PASSWORD\\n\\s+valueFrom:\\n\\s+secretKeyRef:\\n\\s+key: ${service.toUpperCase()}_NATS_PASSWORD\\n\\s+name: nats-credentials$`,
        "m",
      ).test(d.text),
      `${label}: ${d.kind}/${d.name} reads ${service.toUpperCase()}_NATS_PASSWORD from Secret nats-credentials`,
    );
  }
}

/**
 * The services' NATS settings follow the NATS StatefulSet: on a three-server
 * cluster they list all three servers and ask for 3 replicas; on one server,
 * one replica (a replicated stream cannot be placed there).
 */
function checkNatsReplicas(label, docs) {
  const nats = docs.find((d) => d.kind === "StatefulSet" && d.name === "nats");
  const common = docs.find((d) => d.kind === "ConfigMap" && d.name.startsWith("t2v-common"));
  if (!nats || !check(common, `${label}: renders ConfigMap t2v-common`)) return;
  const servers = Number(/^spec:\n(?:\s+.*\n)*?\s+replicas: (\d+)$/m.exec(nats.text)?.[1] ?? "1");
  const value = (key) => new RegExp(`^\\s+${key}: "?([^"\\n]*)"?$`, "m").exec(common.text)?.[1];
  const replicas = Number(value("NATS_REPLICAS") ?? "1");
  const urls = (value("NATS_URL") ?? "").split(",").filter((u) => u !== "");
  if (servers >= 3) {
    check(replicas === 3, `${label}: ${servers} NATS servers, so NATS_REPLICAS=3 (is ${replicas})`);
    check(urls.length === servers, `${label}: NATS_URL lists all ${servers} NATS servers (lists ${urls.length})`);
  } else {
    check(replicas === 1, `${label}: one NATS server, so NATS_REPLICAS=1 (is ${replicas})`);
  }
}

async function checkRenders() {
  const overlays = dirs(join(ROOT, "overlays"));
  // Every component at once, so components no overlay enables still render.
  const tmp = mkdtempSync(join(tmpdir(), "t2v-deploy-"));
  const up = (p) => relative(tmp, join(ROOT, p)); // kustomize refuses absolute paths
  writeFileSync(
    join(tmp, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      `namespace: ${NAMESPACE}`,
      "resources:",
      `  - ${up("base")}`,
      "components:",
      ...ALL_COMPONENTS.map((c) => `  - ${up(`components/${c}`)}`),
      "",
    ].join("\n"),
  );
  let renders;
  try {
    // In parallel: each kubectl run takes a few hundred milliseconds.
    renders = await Promise.all([
      ...overlays.map((o) => kubectlKustomize(join(ROOT, "overlays", o))),
      kubectlKustomize(tmp),
    ]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (renders.some((r) => r === null)) return false;

  const results = new Map();
  for (const [i, overlay] of overlays.entries()) {
    const r = renders[i];
    if (!check(r.status === 0, `kubectl kustomize overlays/${overlay}: ${r.stderr.trim()}`)) continue;
    results.set(overlay, checkRendered(`overlays/${overlay}`, r.stdout, { pinnedImages: true }));
  }
  const all = renders[overlays.length];
  if (check(all.status === 0, `kubectl kustomize base + all components: ${all.stderr.trim()}`)) {
    const ids = checkRendered("all components", all.stdout, { pinnedImages: false });
    for (const id of [
      "Deployment/inference-vip",
      "StatefulSet/nats",
      "ScaledObject/inference",
      "PersistentVolumeClaim/t2v-model",
    ]) {
      check(ids.has(id), `all components: renders ${id}`);
    }
    check(
      !/build-reference-model-cli/.test(all.stdout),
      "all components: model-volume removes the reference-model init containers",
    );
  }

  const prod = results.get("production");
  if (prod) {
    for (const id of [
      "Deployment/inference-vip",
      "HorizontalPodAutoscaler/gateway",
      "ScaledObject/encoder",
      "ScaledObject/inference",
      "ScaledObject/inference-vip",
      "NetworkPolicy/default-deny",
      "Deployment/otel-collector",
    ]) {
      check(prod.has(id), `overlays/production: renders ${id}`);
    }
  }
  const local = results.get("local");
  if (local) check(!local.has("Deployment/inference-vip"), "overlays/local: no GPU pool");
  return true;
}

// ---------------------------------------------------------------- main

const started = performance.now();
checkStatic();
const rendered = process.argv.includes("--static") ? false : await checkRenders();
const mode = rendered ? "static + kubectl kustomize" : "static only (kubectl not used)";
console.log(`deploy/validate: ${mode}, ${Math.round(performance.now() - started)} ms`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

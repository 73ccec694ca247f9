#!/usr/bin/env node
// Writes the README's configuration table from the schemas the services and
// the CLI read (each Field's env, default and doc), between the markers
// <!-- config-table:start --> and <!-- config-table:end -->.
//   node scripts/config-table.mjs [FILE]   (default README.md; run `npm run build` first)
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

/** Read by libraries, not by our schemas: listed so the table is complete. */
const LIBRARY_ROWS = [
  [
    "`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_TRACES_EXPORTER`, `OTEL_SERVICE_NAME`, ...",
    "all",
    "export off",
    "standard OpenTelemetry settings, read by its SDK ([docs/observability.md](docs/observability.md))",
  ],
];

const isField = (v) =>
  v !== null &&
  typeof v === "object" &&
  typeof v.env === "string" &&
  typeof v.doc === "string" &&
  typeof v.parse === "function";

/** Every exported object whose values are all Fields: a schema. */
function schemasOf(mod) {
  return Object.values(mod).filter(
    (v) => v !== null && typeof v === "object" && Object.keys(v).length > 0 && Object.values(v).every(isField),
  );
}

async function load(path) {
  return import(pathToFileURL(path).href);
}

async function collect() {
  /** env -> { field, readers: Set<string> } in first-seen order. */
  const rows = new Map();
  const add = (field, reader) => {
    const row = rows.get(field.env) ?? { field, readers: new Set() };
    row.readers.add(reader);
    rows.set(field.env, row);
  };
  const common = await load(join(root, "packages/common/dist/config/config.js"));
  const everywhere = new Set();
  for (const schema of [common.commonFields, common.opsFields]) {
    for (const f of Object.values(schema)) {
      add(f, "all");
      everywhere.add(f.env);
    }
  }
  // In the order the root package.json lists the workspaces (the data flow), then any others.
  const listed = JSON.parse(await readFile(join(root, "package.json"), "utf8"))
    .workspaces.filter((w) => w.startsWith("services/"))
    .map((w) => w.slice("services/".length));
  const present = (await readdir(join(root, "services"), { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const services = [...listed.filter((s) => present.includes(s)), ...present.filter((s) => !listed.includes(s)).sort()];
  for (const service of services) {
    const mod = await load(join(root, "services", service, "dist/config.js")).catch((err) => {
      throw new Error(`services/${service}/dist/config.js: ${err.message} (run npm run build)`);
    });
    for (const schema of schemasOf(mod)) {
      for (const f of Object.values(schema)) if (!everywhere.has(f.env)) add(f, service);
    }
  }
  const cli = await load(join(root, "packages/cli/dist/config.js"));
  for (const schema of schemasOf(cli)) {
    for (const f of Object.values(schema)) if (!everywhere.has(f.env)) add(f, "`t2v` (CLI, `npm start`)");
  }
  // A variable every service reads, though each declares it itself, is "all".
  for (const row of rows.values()) {
    if (services.every((s) => row.readers.has(s))) {
      for (const s of services) row.readers.delete(s);
      row.readers = new Set(["all", ...row.readers]);
    }
  }
  return [...rows.values()];
}

function defaultOf(field) {
  if (field.default !== undefined) return field.default === "" ? "—" : `\`${field.default}\``;
  try {
    field.parse(undefined);
    return "—";
  } catch {
    return "required";
  }
}

const cell = (s) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

export function render(rows) {
  const lines = ["| variable | services | default | meaning |", "|---|---|---|---|"];
  for (const { field, readers } of rows) {
    lines.push(`| \`${field.env}\` | ${[...readers].join(", ")} | ${cell(defaultOf(field))} | ${cell(field.doc)} |`);
  }
  for (const r of LIBRARY_ROWS) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

const file = resolve(process.argv[2] ?? join(root, "README.md"));
const text = await readFile(file, "utf8");
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start < 0 || end < start) {
  process.stderr.write(`config-table: ${file} has no ${START} ... ${END} markers\n`);
  process.exit(1);
}
const table = render(await collect());
const next = `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`;
if (next !== text) await writeFile(file, next);

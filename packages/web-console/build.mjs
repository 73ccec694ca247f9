// Builds the console into dist/public: index.html plus content-hashed
// assets/ (the gateway serves those as immutable). Run after `tsc -b`, which
// type-checks this package and builds the SDK and generated code it bundles.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "public");
await rm(out, { recursive: true, force: true });
await mkdir(join(out, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "main.ts"), join(here, "src", "console.css")],
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
});

const assetOf = (entry) => {
  const [file] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(entry)) ?? [];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return `/assets/${basename(file)}`;
};
const html = (await readFile(join(here, "src", "index.html"), "utf8"))
  .replace("{{script}}", assetOf("src/main.ts"))
  .replace("{{style}}", assetOf("src/console.css"));
await writeFile(join(out, "index.html"), html);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web-console: wrote ${relative(process.cwd(), out) || "."} (${Math.round(bytes / 1024)} KiB)`);

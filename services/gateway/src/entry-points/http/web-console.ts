import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type HttpRoute, header } from "./node-http.js";

/** Where `node packages/web-console/build.mjs` writes the console, from services/gateway/dist/entry-points/http/. */
const DEFAULT_DIR = fileURLToPath(new URL("../../../../../packages/web-console/dist/public/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
};

/**
 * Scripts and styles only from this origin (no inline code); Connect calls
 * only to this origin; the clip and its previews from this origin or blob:
 * URLs the page made; nothing may frame the page (it holds an API key).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  body: Buffer;
  /** Compressed once at load: the bundle is ~200 KB, ~55 KB gzipped. */
  gzip: Buffer;
  type: string;
  etag: string;
  /** Hashed names under /assets/ never change; the page itself is revalidated. */
  cache: string;
}

export interface WebConsoleOptions {
  /** The built console (index.html and assets/); packages/web-console/dist/public by default. */
  dir?: string;
}

/** Serves the built web console at / and its files under /assets/, with a strict CSP. */
export function createWebConsole(options: WebConsoleOptions = {}): HttpRoute {
  const dir = options.dir ?? DEFAULT_DIR;
  let assets: Promise<Map<string, Asset>> | undefined;

  return async function serveWebConsole(req, res, url) {
    const path = url.pathname === "/" ? "/index.html" : url.pathname;
    if (path !== "/index.html" && !path.startsWith("/assets/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    // Loaded once: the set of files is fixed, so no request path ever reaches the file system.
    if (!assets && existsSync(join(dir, "index.html"))) assets = load(dir);
    const asset = (await assets)?.get(path);
    if (!asset) {
      if (path !== "/index.html") return false;
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The web console is not built: run `npm run build`.\n");
      return true;
    }
    const gzip = /\bgzip\b/.test(header(req, "accept-encoding") ?? "");
    // Each encoding is its own representation, with its own ETag.
    const etag = gzip ? `${asset.etag.slice(0, -1)}-gz"` : asset.etag;
    const headers: Record<string, string> = {
      "content-type": asset.type,
      vary: "accept-encoding",
      "cache-control": asset.cache,
      etag,
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
    };
    if (header(req, "if-none-match") === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers["content-encoding"] = "gzip";
    res.writeHead(200, { ...headers, "content-length": String(body.length) });
    if (req.method === "HEAD") res.end();
    else res.end(body);
    return true;
  };
}

async function load(dir: string): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const type = TYPES[extname(file)];
    if (!type) continue;
    const path = `/${relative(dir, file).split(sep).join("/")}`;
    const body = await readFile(file);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    const cache = path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
    out.set(path, { body, gzip: gzipSync(body, { level: 9 }), type, etag, cache });
  }
  return out;
}

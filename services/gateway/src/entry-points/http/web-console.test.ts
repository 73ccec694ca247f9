import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CONSOLE_CSP, createWebConsole } from "./web-console.js";

let dir: string;
let server: Server;
let base: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "t2v-console-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>t</title>");
  await writeFile(join(dir, "assets", "main-ABC123.js"), "console.log(1)");
  await writeFile(join(dir, "assets", "notes.txt"), "not a served type");
  await writeFile(join(dir, "secret.js"), "outside assets/");
  const serve = createWebConsole({ dir });
  server = createServer((req, res) => {
    void serve(req, res, new URL(req.url ?? "/", "http://x")).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("web console file server", () => {
  it("serves the page at / with the CSP, revalidated, and answers 304 to its ETag", async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("content-security-policy"), CONSOLE_CSP);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const etag = res.headers.get("etag") ?? assert.fail("no etag");
    const again = await fetch(`${base}/`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    const head = await fetch(`${base}/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });

  it("serves hashed assets as immutable, and nothing outside the built set", async () => {
    const js = await fetch(`${base}/assets/main-ABC123.js?v=1`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(js.headers.get("content-encoding"), "gzip", "fetch asks for gzip");
    assert.equal(await js.text(), "console.log(1)");
    for (const path of ["/assets/notes.txt", "/secret.js", "/assets/../secret.js", "/assets/%2e%2e/secret.js", "/x"]) {
      assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${base}/`, { method: "POST" })).status, 404);
  });

  it("says how to build the console when it is missing", async () => {
    const serve = createWebConsole({ dir: join(dir, "nope") });
    const s = createServer((req, res) => void serve(req, res, new URL(req.url ?? "/", "http://x")));
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
    s.close();
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run build/);
  });
});

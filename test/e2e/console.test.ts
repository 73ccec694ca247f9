import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { REPO_ROOT } from "../support/mesh.js";
import { useMesh } from "../support/use-mesh.js";

// Debian's chromium (scripts/setup.sh installs it): browsers cannot be downloaded here.
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = join(REPO_ROOT, ".data", "test-artifacts");
const GENERATION_MS = 180_000;

const mesh = useMesh();
let profile: string;
let browser: BrowserContext;
let page: Page;
const cspViolations: string[] = [];

/**
 * The little of the DOM that the functions Playwright runs inside the page
 * touch: this package compiles without the DOM library (it would change the
 * types of fetch for the other tests). Inside those functions,
 * `(globalThis as unknown as InPage)` is just `globalThis` at run time.
 */
interface InPage {
  document: {
    querySelector(selector: string): {
      value: number;
      hidden: boolean;
      readyState: number;
      duration: number;
      textContent: string | null;
    } | null;
    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
    activeElement: { id: string } | null;
  };
}

before(async () => {
  assert.ok(
    existsSync(join(REPO_ROOT, "packages", "web-console", "dist", "public", "index.html")),
    "the console is not built: run `npm run build` (tsc -b && node packages/web-console/build.mjs)",
  );
  profile = await mkdtemp(join(tmpdir(), "t2v-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1366, height: 768 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** The <progress> value, once it is strictly above `above` (and, with `below`, under it). */
async function progressAbove(above: number, below = 1.01): Promise<number> {
  const handle = await page.waitForFunction(
    ([a, b]) => {
      const p = (globalThis as unknown as InPage).document.querySelector("#task-progress");
      return p && p.value > a && p.value < b ? p.value : null;
    },
    [above, below] as const,
    { timeout: GENERATION_MS, polling: 50 },
  );
  return Number(await handle.jsonValue());
}

/** Waits until the clip can play, and returns its duration. */
async function playableDuration(): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const v = (globalThis as unknown as InPage).document.querySelector("#task-video");
      // 3 = HAVE_FUTURE_DATA: it can start playing.
      return v && !v.hidden && v.readyState >= 3 ? v.duration : null;
    },
    undefined,
    { timeout: GENERATION_MS },
  );
  return Number(await handle.jsonValue());
}

describe("web console in Chromium against the real mesh", () => {
  it("serves the page with a strict CSP, hashed immutable assets and correct content types", async () => {
    const res = await page.goto(`${mesh.baseUrl}/`);
    assert.equal(res?.status(), 200);
    const headers = res?.headers() ?? {};
    assert.match(headers["content-type"] ?? "", /^text\/html/);
    assert.match(headers["content-security-policy"] ?? "", /default-src 'none'.*script-src 'self'/);
    assert.match(headers["content-security-policy"] ?? "", /connect-src 'self'/);
    assert.equal(headers["cache-control"], "no-cache");
    const script = await page.locator("script[type=module]").getAttribute("src");
    assert.match(script ?? "", /^\/assets\/main-[A-Z0-9]+\.js$/);
    const js = await fetch(`${mesh.baseUrl}${script}`);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(js.headers.get("cache-control") ?? "", /immutable/);
    assert.equal((await fetch(`${mesh.baseUrl}/assets/nope.js`)).status, 404);
  });

  it("shows a validation error from the server next to its field", async () => {
    await page.getByLabel("API key").fill(mesh.apiKey);
    await page.getByLabel("Prompt", { exact: true }).fill("a paper boat on a rainy street");
    await page.getByLabel("Duration (seconds)").fill("2");
    // From the keyboard: Enter in a field submits the form.
    await page.getByLabel("Duration (seconds)").press("Enter");
    const field = page.locator(".field", { has: page.locator("#duration") });
    const error = field.locator(".field-error");
    await error.waitFor({ state: "visible" });
    assert.match((await error.textContent()) ?? "", /3/, "the rule's bound is named");
    assert.equal(await page.locator("#duration").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#err-prompt").isVisible(), false, "only the wrong field is marked");
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.id),
      "duration",
      "focus moves to it",
    );
  });

  it("generates over Connect: progress advances, the clip plays with the requested duration", async () => {
    await page.getByLabel("Duration (seconds)").fill("3");
    await page.getByLabel("Resolution").selectOption("480p");
    await page.getByLabel("Style").selectOption("watercolor");
    await page.getByLabel("Seed (optional)").fill("21");
    await page.getByLabel("Negative prompt (optional)").fill("text, watermark");
    await page.getByRole("button", { name: "Generate" }).click();
    assert.equal(await page.locator("#err-duration").isVisible(), false, "the error is cleared");
    const first = await progressAbove(0, 0.9);
    const later = await progressAbove(first);
    assert.ok(later > first, `progress advanced: ${first} -> ${later}`);
    const duration = await playableDuration();
    assert.ok(Math.abs(duration - 3) <= 0.2, `clip lasts ${duration} s, asked 3 s`);
    assert.equal(await page.locator("#task-progress").getAttribute("value"), "1");
    assert.match((await page.locator("#task-status").textContent()) ?? "", /Completed/);
    const href = await page.getByRole("link", { name: "Download MP4" }).getAttribute("href");
    assert.match(href ?? "", /\/v1\/videos\/.+\.mp4\?exp=/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "console.png"), fullPage: true });
  });

  it("follows WatchTask over gRPC-Web too, and lists the tenant's tasks", async () => {
    await page.getByLabel("Transport").selectOption("grpc-web");
    await page.getByLabel("Seed (optional)").fill("22");
    await page.getByRole("button", { name: "Generate" }).click();
    const first = await progressAbove(0, 0.9);
    const later = await progressAbove(first);
    assert.ok(later > first, `progress advanced over gRPC-Web: ${first} -> ${later}`);
    const duration = await playableDuration();
    assert.ok(Math.abs(duration - 3) <= 0.2, `clip lasts ${duration} s`);
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.waitForFunction(
      () =>
        Array.from((globalThis as unknown as InPage).document.querySelectorAll("#tasks tbody tr")).filter((r) =>
          /completed/.test(r.textContent ?? ""),
        ).length >= 2,
    );
    assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations");
  });

  it("deletes the task after a confirmation: dismissing keeps it; then the video goes and the task reads deleted", async () => {
    const download = page.getByRole("link", { name: "Download MP4" });
    const href = await download.getAttribute("href");
    assert.ok(href);
    const questions: string[] = [];
    page.once("dialog", (d) => {
      questions.push(d.message());
      void d.dismiss();
    });
    await page.locator("#task-delete").click();
    assert.match(questions[0] ?? "", /Delete task .+\? Its video, poster and intermediate files are removed for good/);
    assert.equal(await download.isVisible(), true, "dismissed: nothing deleted");
    assert.equal((await fetch(new URL(href, mesh.baseUrl))).status, 200);

    page.once("dialog", (d) => void d.accept());
    await page.locator("#task-delete").click();
    await page.waitForFunction(() =>
      /deleted/.test((globalThis as unknown as InPage).document.querySelector("#task-status")?.textContent ?? ""),
    );
    assert.match((await page.locator("#task-status").textContent()) ?? "", /Completed, deleted/);
    assert.equal(await download.isVisible(), false);
    assert.equal(await page.locator("#task-video").isVisible(), false);
    assert.equal(await page.locator("#task-delete").isVisible(), false);
    assert.equal((await fetch(new URL(href, mesh.baseUrl))).status, 404, "the old link serves nothing");
    await page.waitForFunction(() =>
      Array.from((globalThis as unknown as InPage).document.querySelectorAll("#tasks tbody tr")).some((r) =>
        /completed \(deleted\)/.test(r.textContent ?? ""),
      ),
    );
    assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations");
  });
});

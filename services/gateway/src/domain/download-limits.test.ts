import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDownloadLimits } from "./download-limits.js";

const MB = 1_000_000;
const settings = {
  perGateway: 100,
  perTenant: 3,
  perLink: 2,
  tenantBytesPerSecond: 10 * MB,
  linkBytesPerSecond: 4 * MB,
};

describe("download limits", () => {
  it("caps open downloads per file and per tenant, and frees a slot when one finishes", () => {
    const l = createDownloadLimits(settings);
    assert.equal(l.tryStart("acme", "a.mp4"), "ok");
    assert.equal(l.tryStart("acme", "a.mp4"), "ok");
    assert.equal(l.tryStart("acme", "a.mp4"), "link", "a third download of one file");
    assert.equal(l.openForLink("a.mp4"), 2, "a refusal counts nothing");
    assert.equal(l.tryStart("acme", "b.mp4"), "ok");
    assert.equal(l.tryStart("acme", "c.mp4"), "tenant", "a fourth download of one tenant");
    assert.equal(l.tryStart("other", "c.mp4"), "ok", "another tenant has its own cap");
    l.finish("acme", "a.mp4");
    assert.equal(l.openForTenant("acme"), 2);
    assert.equal(l.tryStart("acme", "c.mp4"), "ok");
    for (const [t, f] of [
      ["acme", "a.mp4"],
      ["acme", "b.mp4"],
      ["acme", "c.mp4"],
      ["other", "c.mp4"],
    ] as const) {
      l.finish(t, f);
    }
    assert.equal(l.openForTenant("acme"), 0);
    assert.equal(l.openForLink("c.mp4"), 0);
  });

  it("caps the downloads of all tenants together; a tenant's own cap is told first", () => {
    const l = createDownloadLimits({ ...settings, perGateway: 3 });
    assert.equal(l.tryStart("a", "a1.mp4"), "ok");
    assert.equal(l.tryStart("b", "b1.mp4"), "ok");
    assert.equal(l.tryStart("c", "c1.mp4"), "ok");
    assert.equal(l.tryStart("d", "d1.mp4"), "gateway", "a fourth download in the gateway, whoever asks");
    assert.equal(l.open(), 3, "a refusal counts nothing");
    assert.equal(l.openForTenant("d"), 0);
    l.finish("b", "b1.mp4");
    assert.equal(l.tryStart("d", "d1.mp4"), "ok");
    l.finish("x", "never-started.mp4");
    assert.equal(l.open(), 3, "finishing a download never started frees nothing");
  });

  it("lets one second's worth through at once, then paces to the file's rate", () => {
    const l = createDownloadLimits(settings);
    assert.equal(l.pace("acme", "a.mp4", 4 * MB, 0), 0, "the burst");
    assert.equal(l.pace("acme", "a.mp4", 1 * MB, 0), 250, "1 MB more at 4 MB/s");
    assert.equal(l.pace("acme", "a.mp4", 1 * MB, 0), 500, "debt adds up");
    assert.equal(
      l.pace("acme", "a.mp4", 1 * MB, 250),
      500,
      "250 ms later 1 MB of the debt is paid back, 1 MB more taken",
    );
    assert.equal(l.pace("acme", "a.mp4", 1 * MB, 2000), 0, "out of debt, up to the burst again");
  });

  it("shares the tenant's rate between its files, each still under its own", () => {
    const l = createDownloadLimits(settings);
    let now = 0;
    let sent = 0;
    // Three files downloaded in 256 KiB chunks in turn, each waiting as told: 60 s of simulated time.
    const chunk = 256 * 1024;
    const ready = new Map<string, number>([
      ["a", 0],
      ["b", 0],
      ["c", 0],
    ]);
    while (now < 60_000) {
      const [file, at] = [...ready].sort((x, y) => x[1] - y[1])[0] ?? ["a", 0];
      now = Math.max(now, at);
      ready.set(file, now + l.pace("acme", file, chunk, now));
      sent += chunk;
    }
    const rate = sent / 60;
    assert.ok(rate <= 10 * MB * 1.05, `tenant rate ${rate} <= 10 MB/s (+ the first second's burst)`);
    assert.ok(rate >= 10 * MB * 0.9, `and the tenant gets its rate: ${rate}`);
  });

  it("forgets nothing it still needs: a tenant's debt stays across its downloads", () => {
    const l = createDownloadLimits({ ...settings, linkBytesPerSecond: 100 * MB });
    assert.equal(l.pace("acme", "a.mp4", 20 * MB, 0), 1000);
    assert.equal(l.pace("acme", "b.mp4", 0, 0), 1000, "a new file of the same tenant waits out the debt too");
    assert.equal(l.pace("other", "c.mp4", 1 * MB, 0), 0);
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FATAL_EXIT_CODE } from "./fatal-errors.js";

const policy = fileURLToPath(new URL("./fatal-errors.js", import.meta.url));
const logger = fileURLToPath(new URL("../logger.js", import.meta.url));

/** Runs `body` in a fresh node process with the policy installed; its exit code and stdout. */
function runWithPolicy(body: string): Promise<{ code: number | null; stdout: string }> {
  const script = `
    import { installFatalErrorPolicy } from ${JSON.stringify(policy)};
    import { createLogger } from ${JSON.stringify(logger)};
    installFatalErrorPolicy(createLogger("svc", "info"), "svc");
    setInterval(() => {}, 1000); // work still pending: the policy must end the process anyway
    ${body}
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

test("an uncaught exception is logged at fatal level with its stack and the process exits non-zero", async () => {
  const { code, stdout } = await runWithPolicy(`setTimeout(() => { throw new Error("boom"); }, 10);`);
  assert.equal(code, FATAL_EXIT_CODE);
  const line = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  assert.equal(line.level, "fatal");
  assert.equal(line.service, "svc");
  assert.match(JSON.stringify(line.err), /boom/);
  assert.match(JSON.stringify(line.err), /stack/);
});

test("an unhandled rejection is logged at error level and the process exits non-zero", async () => {
  const { code, stdout } = await runWithPolicy(`Promise.reject(new Error("nobody caught me"));`);
  assert.equal(code, FATAL_EXIT_CODE);
  const line = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  assert.equal(line.level, "error");
  assert.equal(line.kind, "unhandled rejection");
  assert.match(JSON.stringify(line.err), /nobody caught me/);
});

test("a process without errors is left alone", async () => {
  const { code } = await runWithPolicy(`setTimeout(() => process.exit(0), 20);`);
  assert.equal(code, 0);
});

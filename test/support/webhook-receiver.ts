import http from "node:http";
import { after, before } from "node:test";
import { lateBound } from "./late-bound.js";

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookReceiver {
  url: (path: string) => string;
  received: ReceivedWebhook[];
  /** The status to answer on `path`, given how many times this webhook-id came there before (0 first). */
  answer: (path: string, previous: number) => { status: number; headers?: Record<string, string> };
  waitFor(pred: (all: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A local HTTP receiver for webhooks (tests allow-list 127.0.0.1). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const r: WebhookReceiver = {
    url: () => "",
    received,
    answer: () => ({ status: 200 }),
    async waitFor(pred, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > until) throw new Error(`webhooks not as expected: ${JSON.stringify(received, null, 1)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    close: () => new Promise((res) => server.close(() => res())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const id = headers["webhook-id"];
      const previous = received.filter((w) => w.path === path && w.headers["webhook-id"] === id).length;
      received.push({ path, headers, body: Buffer.concat(chunks).toString("utf8") });
      const a = r.answer(path, previous);
      res.writeHead(a.status, a.headers ?? {});
      res.end();
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  r.url = (path) => `http://127.0.0.1:${port}${path}`;
  return r;
}

/** A receiver started in `before` and closed in `after` of the enclosing suite. */
export function useWebhookReceiver(): WebhookReceiver {
  let receiver: WebhookReceiver | undefined;
  before(async () => {
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.close();
  });
  return lateBound(() => {
    if (!receiver) throw new Error("the webhook receiver is used before it started");
    return receiver;
  });
}

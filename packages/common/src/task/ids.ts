import { randomBytes } from "node:crypto";

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids
 * sort by creation time, which ListTasks relies on for newest-first order.
 */
export function newTaskId(now: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | ((b[6] ?? 0) & 0x0f);
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isTaskId(s: string): boolean {
  return UUID.test(s);
}

/** Milliseconds since the epoch when a task id was minted (its UUIDv7 timestamp). */
export function taskIdTime(taskId: string): number {
  return Number.parseInt(taskId.replaceAll("-", "").slice(0, 12), 16);
}

const LEVEL_MARK: Record<string, string> = {
  trace: "TRC",
  debug: "DBG",
  info: "INF",
  warn: "WRN",
  error: "ERR",
  fatal: "FTL",
};

const SKIP = new Set(["level", "time", "msg", "service", "pid", "hostname", "worker_id"]);

/** One pino JSON line made readable for a terminal; other text passes through. */
export function formatLogLine(service: string, line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${service.padEnd(9)} ${line}`;
  }
  if (typeof rec !== "object" || rec === null) return `${service.padEnd(9)} ${line}`;
  const time = typeof rec.time === "string" ? rec.time.slice(11, 19) : "";
  const level = LEVEL_MARK[String(rec.level)] ?? String(rec.level);
  const extras = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" ");
  return `${time} ${service.padEnd(9)} ${level} ${String(rec.msg ?? "")}${extras ? ` ${extras}` : ""}`;
}

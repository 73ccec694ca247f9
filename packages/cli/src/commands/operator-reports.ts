import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Channels, channels, openToolBus } from "@t2v/common/channels";
import type { NatsSettings } from "@t2v/common/config";

export interface ReportOutput {
  write(s: string): void;
}

async function withChannels<T>(nats: NatsSettings, fn: (c: Channels) => Promise<T>): Promise<T> {
  const bus = await openToolBus(nats, "t2v-cli");
  try {
    return await fn(channels(bus));
  } finally {
    await bus.close();
  }
}

/** A tenant's usage records in [since, until) (whole UTC days), one line each, then totals. */
export async function usageReport(
  nats: NatsSettings,
  o: { tenant: string; since: Date; until: Date },
  out: ReportOutput,
): Promise<void> {
  const records = await withChannels(nats, (c) => c.usage.list(o.tenant, o.since, o.until));
  out.write(`${"COMPLETED".padEnd(22)}${"TASK".padEnd(38)}${"RES".padEnd(6)}${"SECONDS".padEnd(9)}GPU_S    BILLED\n`);
  let gpu = 0;
  let billed = 0;
  for (const u of records) {
    const when = u.completeTime ? timestampDate(u.completeTime).toISOString().slice(0, 19) : "";
    out.write(
      `${when.padEnd(22)}${u.taskId.padEnd(38)}${u.resolution.padEnd(6)}${u.durationSeconds.toFixed(1).padEnd(9)}${u.gpuSeconds.toFixed(2).padEnd(9)}${u.billable ? "yes" : "no (cache hit)"}\n`,
    );
    if (u.billable) {
      billed++;
      gpu += u.gpuSeconds;
    }
  }
  out.write(`${records.length} tasks, ${billed} billable, ${gpu.toFixed(2)} GPU seconds\n`);
}

/** Tasks that failed for good, newest first. */
export async function deadLettersReport(nats: NatsSettings, out: ReportOutput): Promise<void> {
  const letters = await withChannels(nats, (c) => c.deadLetters.list());
  for (const d of letters) {
    const when = d.failTime ? timestampDate(d.failTime).toISOString().slice(0, 19) : "";
    out.write(
      `${when}  ${d.taskId}  tenant=${d.tenantId} attempts=${d.attempts} stage=${d.stage}  ${d.errorMessage}\n`,
    );
  }
  out.write(`${letters.length} dead letters\n`);
}

import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Buckets, createUsageLedger, openBucket } from "@t2v/common";
import { DeadLetterSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_state_pb";

export interface ReportOutput {
  write(s: string): void;
}

async function withNats<T>(natsUrl: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: natsUrl.split(","), name: "t2v-cli", timeout: 5_000 });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** A tenant's usage records in [since, until) (whole UTC days), one line each, then totals. */
export async function usageReport(
  natsUrl: string,
  o: { tenant: string; since: Date; until: Date },
  out: ReportOutput,
): Promise<void> {
  const records = await withNats(natsUrl, async (nc) =>
    createUsageLedger(await openBucket(nc, Buckets.usage)).list(o.tenant, o.since, o.until),
  );
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
export async function deadLettersReport(natsUrl: string, out: ReportOutput): Promise<void> {
  const letters = await withNats(natsUrl, async (nc) => {
    const kv = await openBucket(nc, Buckets.deadLetters);
    const found = [];
    for await (const k of await kv.keys()) {
      const e = await kv.get(k);
      if (e?.operation === "PUT") found.push(fromBinary(DeadLetterSchema, e.value));
    }
    return found.sort((a, b) => b.taskId.localeCompare(a.taskId));
  });
  for (const d of letters) {
    const when = d.failTime ? timestampDate(d.failTime).toISOString().slice(0, 19) : "";
    out.write(
      `${when}  ${d.taskId}  tenant=${d.tenantId} attempts=${d.attempts} stage=${d.stage}  ${d.errorMessage}\n`,
    );
  }
  out.write(`${letters.length} dead letters\n`);
}

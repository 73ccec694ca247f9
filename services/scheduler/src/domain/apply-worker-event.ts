import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { afterYield, attemptsSpent, endTask, isTerminal, patchRecord, usageFor } from "@t2v/common/task";
import { withSamplerSettings } from "./effective-request.js";
import { attemptFailureCode, finalFailure } from "./error-codes.js";
import { backoffDelayMs, type RetryPolicy } from "./retry-policy.js";
import { attemptTimings, secondsBetween, withTimings } from "./stage-timings.js";

/** Share of progress given to denoising; decode and H.264 take the rest. */
export const DENOISE_SHARE = 0.9;

export interface Transition {
  /** The record to write, or null to leave it as it is. */
  record: TaskRecord | null;
  /** Set when the task must be tried again after a delay. */
  retry?: { attempt: number; delayMs: number };
}

const NONE: Transition = { record: null };

/**
 * The task state machine. Pure: given the stored record and one worker event,
 * it says what the record becomes. Events for an ended task or for an older
 * attempt change nothing, and progress never goes down, so duplicated, late
 * or reordered events are harmless.
 */
export function applyWorkerEvent(
  r: TaskRecord,
  ev: WorkerEvent,
  ctx: { now: Timestamp; retry: RetryPolicy; random: number },
): Transition {
  const t = r.task;
  if (!t || isTerminal(t.status) || ev.attempt !== t.attempt) return NONE;
  const { now } = ctx;
  const e = ev.event;
  switch (e.case) {
    case "started":
      if (t.status !== TaskStatus.QUEUED && t.status !== TaskStatus.PROCESSING) return NONE;
      return {
        record: patchRecord(
          r,
          {
            status: TaskStatus.PROCESSING,
            currentStep: 0,
            totalSteps: e.value.totalSteps,
            startTime: t.startTime ?? now,
            updateTime: now,
            params: withSamplerSettings(t.params, e.value),
            // A new attempt times its stages afresh, from its queue wait on.
            timings: attemptTimings(secondsBetween(t.createTime, now)),
          },
          { workerId: ev.workerId, executionProvider: e.value.executionProvider, model: e.value.model },
        ),
      };
    case "step": {
      const { step, totalSteps } = e.value;
      if (t.status !== TaskStatus.QUEUED && t.status !== TaskStatus.PROCESSING) return NONE;
      if (totalSteps === 0 || step <= t.currentStep || step > totalSteps) return NONE;
      return {
        record: patchRecord(r, {
          status: TaskStatus.PROCESSING,
          currentStep: step,
          totalSteps,
          progress: Math.max(t.progress, (DENOISE_SHARE * step) / totalSteps),
          startTime: t.startTime ?? now,
          updateTime: now,
        }),
      };
    }
    case "yielded": {
      // The attempt stopped at a step boundary with a checkpoint and acked its job: the next
      // attempt resumes from it and this one is not charged to the retry budget.
      const { step, totalSteps, checkpointObject, reason } = e.value;
      const paused = t.status === TaskStatus.PAUSED;
      if (!paused && t.status !== TaskStatus.QUEUED && t.status !== TaskStatus.PROCESSING) return NONE;
      const reached = totalSteps > 0 && step <= totalSteps ? Math.max(t.currentStep, step) : t.currentStep;
      return {
        record: afterYield(
          r,
          {
            // A paused task stays paused (ResumeTask queues it); a preempted one is queued at once.
            status: paused ? TaskStatus.PAUSED : TaskStatus.QUEUED,
            currentStep: reached,
            progress: totalSteps > 0 ? Math.max(t.progress, (DENOISE_SHARE * reached) / totalSteps) : t.progress,
            updateTime: now,
            preemptions: t.preemptions + (reason === "preempt" && !paused ? 1 : 0),
          },
          { checkpointObject, notBefore: undefined },
        ),
      };
    }
    case "denoised":
      // A pause that came after the last step loses the race: the task goes on to encode.
      if (t.status !== TaskStatus.QUEUED && t.status !== TaskStatus.PROCESSING && t.status !== TaskStatus.PAUSED)
        return NONE;
      return {
        record: patchRecord(
          r,
          {
            status: TaskStatus.ENCODING,
            pauseExpireTime: undefined,
            progress: Math.max(t.progress, DENOISE_SHARE),
            updateTime: now,
            timings: withTimings(t, {
              textEncode: e.value.textEncodeSeconds,
              denoise: Math.max(0, e.value.denoiseSeconds - e.value.textEncodeSeconds),
            }),
          },
          { latentObject: e.value.latentObject, gpuSeconds: e.value.denoiseSeconds },
        ),
      };
    case "encodingProgress": {
      const { framesDone, totalFrames } = e.value;
      if (t.status !== TaskStatus.ENCODING || totalFrames === 0) return NONE;
      const progress = DENOISE_SHARE + ((1 - DENOISE_SHARE) * 0.99 * Math.min(framesDone, totalFrames)) / totalFrames;
      if (progress <= t.progress) return NONE;
      return { record: patchRecord(r, { progress, updateTime: now }) };
    }
    case "videoReady": {
      const { videoObject, sizeBytes, posterObject, posterSizeBytes, decodeSeconds, encodeSeconds, uploadSeconds } =
        e.value;
      const timings = withTimings(t, { decode: decodeSeconds, encode: encodeSeconds, upload: uploadSeconds });
      const done = endTask(r, TaskStatus.COMPLETED, { progress: 1, errorMessage: "", errorCode: "", timings }, now);
      const gpuSeconds = r.gpuSeconds + decodeSeconds;
      const next =
        done &&
        patchRecord(
          done,
          {},
          { videoObject, posterObject, videoSizeBytes: sizeBytes, posterSizeBytes, latentObject: "", gpuSeconds },
        );
      // What the usage ledger bills, shown on the task.
      if (next?.task) next.task.gpuSeconds = usageFor(next).gpuSeconds;
      return { record: next };
    }
    case "failed": {
      const { message, retryable, stage } = e.value;
      const spent = attemptsSpent(r);
      if (retryable && spent < ctx.retry.maxAttempts && t.status === TaskStatus.PAUSED) {
        // Failed while its pause reached it: the next attempt waits for ResumeTask.
        return {
          record: patchRecord(r, { attempt: t.attempt + 1, updateTime: now }, { lastError: message }),
        };
      }
      if (retryable && spent < ctx.retry.maxAttempts) {
        const delayMs = backoffDelayMs(ctx.retry, spent, ctx.random);
        return {
          record: patchRecord(
            r,
            {
              status: TaskStatus.QUEUED,
              attempt: t.attempt + 1,
              currentStep: 0,
              errorMessage: `attempt ${t.attempt} failed (${attemptFailureCode(e.value)}); retrying`,
              updateTime: now,
            },
            { notBefore: timestampFromMs(timestampMs(now) + delayMs), lastError: message },
          ),
          retry: { attempt: t.attempt + 1, delayMs },
        };
      }
      const failed = endTask(r, TaskStatus.FAILED, finalFailure(e.value, spent), now);
      // The detail is for operators (dead letters, npx t2v dead-letters), never for users.
      return { record: failed && patchRecord(failed, {}, { lastError: `${stage}: ${message}` }) };
    }
    default:
      return NONE;
  }
}

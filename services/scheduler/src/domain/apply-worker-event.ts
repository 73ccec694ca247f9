import { type Timestamp, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, isTerminal, patchRecord } from "@t2v/common/task";
import { backoffDelayMs, type RetryPolicy } from "./retry-policy.js";

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
    case "denoised":
      if (t.status !== TaskStatus.QUEUED && t.status !== TaskStatus.PROCESSING) return NONE;
      return {
        record: patchRecord(
          r,
          { status: TaskStatus.ENCODING, progress: Math.max(t.progress, DENOISE_SHARE), updateTime: now },
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
      const done = endTask(r, TaskStatus.COMPLETED, { progress: 1, errorMessage: "" }, now);
      const { videoObject, sizeBytes, posterObject, decodeSeconds } = e.value;
      const gpuSeconds = r.gpuSeconds + decodeSeconds;
      return {
        record:
          done &&
          patchRecord(done, {}, { videoObject, posterObject, videoSizeBytes: sizeBytes, latentObject: "", gpuSeconds }),
      };
    }
    case "failed": {
      const { message, retryable, stage } = e.value;
      if (retryable && t.attempt < ctx.retry.maxAttempts) {
        const delayMs = backoffDelayMs(ctx.retry, t.attempt, ctx.random);
        return {
          record: patchRecord(
            r,
            {
              status: TaskStatus.QUEUED,
              attempt: t.attempt + 1,
              currentStep: 0,
              errorMessage: `attempt ${t.attempt} failed in ${stage}: ${message}; retrying`,
              updateTime: now,
            },
            { notBefore: timestampFromMs(timestampMs(now) + delayMs), lastError: message },
          ),
          retry: { attempt: t.attempt + 1, delayMs },
        };
      }
      const why = retryable ? `failed after ${t.attempt} attempts: ${message}` : message;
      return { record: endTask(r, TaskStatus.FAILED, { errorMessage: why }, now) };
    }
    default:
      return NONE;
  }
}

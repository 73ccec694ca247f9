import { TaskEventSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** A denoising preview (`TaskEvent.preview`), a field later API versions add. */
export interface Preview {
  image: Uint8Array;
  mimeType: string;
  step: number;
  width: number;
  height: number;
}

/** Whether this build's contract has previews at all (from the generated descriptor). */
export const PREVIEWS_SUPPORTED = TaskEventSchema.fields.some((f) => f.localName === "preview");

/** The event's preview, when the contract has the field and the event carries one. */
export function previewOf(event: object): Preview | undefined {
  if (!PREVIEWS_SUPPORTED) return undefined;
  const p: unknown = (event as Record<string, unknown>).preview;
  if (typeof p !== "object" || p === null) return undefined;
  const r = p as Record<string, unknown>;
  if (!(r.image instanceof Uint8Array) || r.image.length === 0 || typeof r.mimeType !== "string") return undefined;
  return {
    image: r.image,
    mimeType: r.mimeType,
    step: typeof r.step === "number" ? r.step : 0,
    width: typeof r.width === "number" ? r.width : 0,
    height: typeof r.height === "number" ? r.height : 0,
  };
}

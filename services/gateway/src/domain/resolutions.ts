/** The sizes the API allows; width x height as Wan2.2 renders them. */
export const RESOLUTIONS = {
  "480p": { width: 832, height: 480 },
  "720p": { width: 1280, height: 720 },
} as const;

export type ResolutionName = keyof typeof RESOLUTIONS;

export function isResolution(s: string): s is ResolutionName {
  return Object.hasOwn(RESOLUTIONS, s);
}

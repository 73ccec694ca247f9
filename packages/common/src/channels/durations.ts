export const SECOND_MS = 1_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** How long JetStream remembers message ids to drop duplicate publishes (its default). */
export const DUPLICATE_WINDOW_MS = 10 * 60 * SECOND_MS;

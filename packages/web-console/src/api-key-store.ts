const STORAGE_KEY = "t2v.apiKey";

/** The key stays in this browser's localStorage; it only ever leaves as the Bearer header of our own calls. */
export function loadApiKey(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveApiKey(key: string): void {
  try {
    if (key === "") localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage disabled (private mode): the key lives in the field for this page only.
  }
}

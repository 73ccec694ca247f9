/** The element with this id, of the expected kind; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is missing or not a ${kind.name}`);
  return el;
}

/** A new element with text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, text = ""): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

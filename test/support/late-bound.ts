/** A stand-in whose every property is read from (and written to) `current()` at the moment it is used. */
export function lateBound<T extends object>(current: () => T): T {
  return new Proxy(Object.create(null) as T, {
    get(_stand, key) {
      const target = current();
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set: (_stand, key, value) => Reflect.set(current(), key, value),
  });
}

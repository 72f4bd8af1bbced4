/**
 * A deep copy of plain data: objects, arrays and primitives, what the reducers' states are made of (they are
 * stored as DynamoDB items). The same copy structuredClone makes of such data, several times faster:
 * structuredClone serialises and deserialises through V8's serializer, which was a third of ingest's CPU time
 * when records hold one or two events (`npm run bench:ingest-cpu`). Class instances, Maps, Sets and Dates are
 * not plain data and are not handled.
 */
export function clonePlainData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => clonePlainData(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = clonePlainData((value as Record<string, unknown>)[key]);
    // Assigning `__proto__` would set the copy's prototype instead of a field (JSON.parse makes it a field).
    if (key === '__proto__')
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}

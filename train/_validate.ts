/** Throws a TypeError naming the unknown keys of an options object (typos must not pass). */
export function rejectUnknownKeys(
  options: object,
  allowed: readonly string[],
  label: string,
): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`Cannot ${label}: options must be an object, received ${typeof options}`);
  }
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `Cannot ${label}: unknown option${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `"${k}"`).join(", ")
      }; expected some of ${allowed.join(", ")}`,
    );
  }
}

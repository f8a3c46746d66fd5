import { tf } from "../backend/tf.ts";

function describe(x: unknown): string {
  if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape}]`;
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return typeof x;
}

/**
 * Asserts `x` is a float32 tensor of the given rank with no empty dimension.
 * `names` are the dimension names used in messages, e.g. `["n", "d"]`.
 */
export function assertFloatTensor(
  loss: string,
  name: string,
  x: unknown,
  names: string[],
): asserts x is tf.Tensor {
  const rank = names.length;
  const dims = `[${names.join(", ")}]`;
  if (!(x instanceof tf.Tensor)) {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must be a tensor of shape ${dims}, received ${describe(x)}`,
    );
  }
  if (x.rank !== rank) {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must have rank ${rank} (shape ${dims}), received shape [${x.shape}]`,
    );
  }
  if (x.dtype !== "float32") {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must be float32, received ${x.dtype}`,
    );
  }
  const empty = x.shape.findIndex((s: number) => s === 0);
  if (empty >= 0) {
    throw new RangeError(
      `Cannot compute ${loss}: ${name} must not be empty (${
        names[empty]
      } >= 1), received shape [${x.shape}]`,
    );
  }
}

/** Asserts two tensors have the same shape. */
export function assertSameShape(
  loss: string,
  nameA: string,
  a: tf.Tensor,
  nameB: string,
  b: tf.Tensor,
): void {
  if (a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new TypeError(
      `Cannot compute ${loss}: ${nameA} and ${nameB} must have the same shape, received [${a.shape}] and [${b.shape}]`,
    );
  }
}

/** Asserts a number option is finite and > 0 (or >= 0 when `allowZero`). */
export function assertPositive(
  loss: string,
  name: string,
  value: unknown,
  allowZero = false,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must be a number, received ${describe(value)}`,
    );
  }
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    throw new RangeError(
      `Cannot compute ${loss}: ${name} must be a finite number ${
        allowZero ? ">= 0" : "> 0"
      }, received ${value}`,
    );
  }
}

/** Asserts a number option is finite (any sign). */
export function assertFinite(loss: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must be a number, received ${describe(value)}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot compute ${loss}: ${name} must be finite, received ${value}`);
  }
}

/** Asserts a positive integer option. */
export function assertPositiveInteger(
  loss: string,
  name: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot compute ${loss}: ${name} must be a number, received ${describe(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot compute ${loss}: ${name} must be an integer >= 1, received ${value}`,
    );
  }
}

/** Asserts `labels` is an int32 tensor of shape `[n]`. */
export function assertLabels(
  loss: string,
  labels: unknown,
  n: number,
): asserts labels is tf.Tensor1D {
  if (!(labels instanceof tf.Tensor)) {
    throw new TypeError(
      `Cannot compute ${loss}: labels must be an int32 tensor of shape [${n}], received ${
        describe(labels)
      }`,
    );
  }
  if (labels.dtype !== "int32") {
    throw new TypeError(`Cannot compute ${loss}: labels must be int32, received ${labels.dtype}`);
  }
  if (labels.rank !== 1 || labels.shape[0] !== n) {
    throw new TypeError(
      `Cannot compute ${loss}: labels must have shape [${n}] (one per embedding), received [${labels.shape}]`,
    );
  }
}

/** Asserts a string option is one of `allowed`. */
export function assertOneOf<T extends string>(
  loss: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new RangeError(
      `Cannot compute ${loss}: ${name} must be one of ${
        allowed.map((a) => `"${a}"`).join(", ")
      }, received ${typeof value === "string" ? `"${value}"` : String(value)}`,
    );
  }
}

/**
 * Asserts `options` is a plain object whose keys are all in `allowed`: a misspelled option
 * (`{ temp: 0.1 }`) must not silently fall back to the default.
 */
export function assertOptions(loss: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(
      `Cannot compute ${loss}: options must be an object, received ${describe(options)}`,
    );
  }
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `Cannot compute ${loss}: unknown option${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `"${k}"`).join(", ")
      }; expected ${allowed.length ? `some of ${allowed.join(", ")}` : "none"}`,
    );
  }
}

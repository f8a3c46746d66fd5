/**
 * Shared test utilities: tensor comparison with explicit tolerances, a finite-difference gradient
 * check, a no-leak check, a seeded PRNG and the backend every test file starts with.
 *
 * @module
 */
import { AssertionError } from "node:assert/strict";
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { pcg32, type Prng } from "../data/prng.ts";

export { pcg32, type Prng };

/** Numbers as a tensor, a (nested) array or a typed array. */
export type Numeric = tf.Tensor | number | ArrayLike<number> | number[][] | number[][][];

function flatten(x: Numeric): { values: Float64Array; shape: number[] | null } {
  if (x instanceof tf.Tensor) {
    return { values: Float64Array.from(x.dataSync() as ArrayLike<number>), shape: x.shape };
  }
  if (typeof x === "number") return { values: Float64Array.of(x), shape: null };
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "number") out.push(v);
    else for (const e of Array.from(v as ArrayLike<unknown>)) walk(e);
  };
  walk(x);
  return { values: Float64Array.from(out), shape: null };
}

/**
 * The error `f` throws, for asserting its type and message; fails (with `what` in the message)
 * when `f` returns instead.
 */
export function thrown(f: () => unknown, what = "the call"): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new AssertionError({ message: `expected ${what} to throw; it returned` });
}

/** Tolerances for {@linkcode assertTensorClose}: |a - e| <= atol + rtol * |e| elementwise. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * Asserts elementwise closeness, |actual - expected| <= atol + rtol * |expected|, and equal
 * shapes when both are tensors. The tolerances are required: no test relies on a default.
 */
export function assertTensorClose(
  actual: Numeric,
  expected: Numeric,
  tolerance: Tolerance,
  message = "",
): void {
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.shape && e.shape && a.shape.join(",") !== e.shape.join(",")) {
    throw new AssertionError({
      message: `${message} shape mismatch: [${a.shape}] vs [${e.shape}]`,
    });
  }
  if (a.values.length !== e.values.length) {
    throw new AssertionError({
      message: `${message} size mismatch: ${a.values.length} vs ${e.values.length}`,
    });
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.values.length; i++) {
    const diff = Math.abs(a.values[i] - e.values[i]);
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(e.values[i]);
    if (!(diff <= allowed)) { // also catches NaN
      const excess = Number.isNaN(diff) ? Infinity : diff - allowed;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    throw new AssertionError({
      message: `${message} not close at index ${worst}: actual ${a.values[worst]}, expected ${
        e.values[worst]
      } (rtol ${tolerance.rtol}, atol ${tolerance.atol})`.trim(),
    });
  }
}

/**
 * Runs `fn` and asserts it leaves `tf.memory().numTensors` unchanged. Returns what `fn` returned
 * after disposing any tensors in it, so the check covers the whole call.
 */
export async function assertNoLeak(
  fn: () => unknown | Promise<unknown>,
  message = "",
): Promise<void> {
  const before = tf.memory().numTensors;
  const result = await fn();
  tf.dispose(collectTensors(result));
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new AssertionError({
      message: `${message} leaked ${after - before} tensors (${before} before, ${after} after)`
        .trim(),
    });
  }
}

function collectTensors(x: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (Array.isArray(x)) { for (const e of x) collectTensors(e, out); }
  else if (x && typeof x === "object" && !(x instanceof tf.Variable)) {
    for (const v of Object.values(x)) collectTensors(v, out);
  }
  return out;
}

/** Options for {@linkcode checkGradient}. */
export interface GradientCheckOptions extends Tolerance {
  /** Central-difference step. */
  eps: number;
  /** Check at most this many input elements (chosen with the PRNG); all when omitted. */
  samples?: number;
  /** Chooses the sampled elements. */
  prng?: () => number;
}

/**
 * Compares `tf.grad(f)(x)` with central finite differences (f(x + eps e_i) - f(x - eps e_i)) /
 * (2 eps), evaluated in float32 by tfjs. Choose eps and tolerances for float32 (eps ~1e-2 to
 * 1e-3, rtol/atol ~1e-2) since the difference quotient itself carries rounding error.
 */
export function checkGradient(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  options: GradientCheckOptions,
): void {
  const { eps, samples, prng = pcg32(1) } = options;
  const analytic = tf.tidy(() => tf.grad(f)(x));
  const grad = analytic.dataSync();
  analytic.dispose();
  const base = Float32Array.from(x.dataSync() as Float32Array);
  const n = base.length;
  const indices = samples === undefined || samples >= n
    ? Array.from({ length: n }, (_, i) => i)
    : Array.from({ length: samples }, () => Math.floor(prng() * n));
  const numeric: number[] = [];
  const picked: number[] = [];
  for (const i of indices) {
    const at = (delta: number) =>
      tf.tidy(() => {
        const v = base.slice();
        v[i] += delta;
        return f(tf.tensor(v, x.shape, "float32")).dataSync()[0];
      });
    numeric.push((at(eps) - at(-eps)) / (2 * eps));
    picked.push(grad[i]);
  }
  assertTensorClose(picked, numeric, options, "gradient vs finite differences:");
}

let mathRandomSeeded = false;

/**
 * Replaces `Math.random` with a fixed PCG32 stream for the test file (each file runs in its own
 * isolate): tfjs-layers initializers without a seed draw from it, so a test that builds a net
 * without `withSeed` is still deterministic instead of passing or failing with the draw.
 */
function seedMathRandom(): void {
  if (mathRandomSeeded) return;
  mathRandomSeeded = true;
  Math.random = pcg32(0x5e1f);
}

/**
 * Selects the backend a test file runs on (and seeds `Math.random` for the file): the one named,
 * else `SELFSUP_TEST_BACKEND` when set, else `cpu`. Quiet, so test output stays readable.
 */
export async function setupBackend(name?: BackendName): Promise<BackendName> {
  seedMathRandom();
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("SELFSUP_TEST_BACKEND") || undefined;
  } catch {
    fromEnv = undefined;
  }
  return await useBackend((name ?? fromEnv ?? "cpu") as BackendName, { quiet: true });
}

/** Fresh standard-normal float64 values from a PRNG (Box-Muller). */
export function randomNormal(n: number, prng: Prng): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(prng(), 1e-300);
    const v = prng();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

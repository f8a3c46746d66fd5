/**
 * `losses/_validate.ts`, the argument checks every loss shares: each check's exact error class and
 * message for every refused value (what was expected, what was received, the dimension or option
 * named), and the boundary values it must accept (0 where zero is allowed, 1 for an integer >= 1,
 * a negative finite number). Found by `deno task mutate losses/_validate.ts`: the loss tests reach
 * these checks through a few losses only, so most branches' messages and bounds were unpinned.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  assertFinite,
  assertFloatTensor,
  assertLabels,
  assertOneOf,
  assertOptions,
  assertPositive,
  assertPositiveInteger,
  assertSameShape,
} from "../../losses/_validate.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

/** Asserts `fn` throws exactly `kind` (not a subclass or parent) with exactly `message`. */
function refuses(fn: () => void, kind: ErrorConstructor, message: string): void {
  assert.throws(fn, (e: Error) => {
    assert.equal(e.constructor, kind, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

const L = "Test loss";

Deno.test("assertFloatTensor: refuses a non-tensor, naming what it received", () => {
  const head = `Cannot compute ${L}: z must be a tensor of shape [n, d], received`;
  refuses(
    () => assertFloatTensor(L, "z", [1, 2], ["n", "d"]),
    TypeError,
    `${head} an array of length 2`,
  );
  refuses(() => assertFloatTensor(L, "z", null, ["n", "d"]), TypeError, `${head} null`);
  refuses(() => assertFloatTensor(L, "z", undefined, ["n", "d"]), TypeError, `${head} undefined`);
  refuses(() => assertFloatTensor(L, "z", 3, ["n", "d"]), TypeError, `${head} number`);
  refuses(() => assertFloatTensor(L, "z", {}, ["n", "d"]), TypeError, `${head} object`);
});

Deno.test("assertFloatTensor: rank, dtype, and the first empty dimension by name", () => {
  tf.tidy(() => {
    refuses(
      () => assertFloatTensor(L, "z", tf.zeros([2, 3, 1]), ["n", "d"]),
      TypeError,
      `Cannot compute ${L}: z must have rank 2 (shape [n, d]), received shape [2,3,1]`,
    );
    refuses(
      () => assertFloatTensor(L, "q", tf.zeros([4]), ["n", "k"]),
      TypeError,
      `Cannot compute ${L}: q must have rank 2 (shape [n, k]), received shape [4]`,
    );
    refuses(
      () => assertFloatTensor(L, "z", tf.zeros([2, 3], "int32"), ["n", "d"]),
      TypeError,
      `Cannot compute ${L}: z must be float32, received int32`,
    );
    refuses(
      () => assertFloatTensor(L, "z", tf.zeros([2, 0]), ["n", "d"]),
      RangeError,
      `Cannot compute ${L}: z must not be empty (d >= 1), received shape [2,0]`,
    );
    refuses(
      () => assertFloatTensor(L, "z", tf.zeros([0, 0]), ["n", "d"]),
      RangeError,
      `Cannot compute ${L}: z must not be empty (n >= 1), received shape [0,0]`,
    );
    // the smallest accepted: one row, one column, and a rank-1 vector of one
    assertFloatTensor(L, "z", tf.zeros([1, 1]), ["n", "d"]);
    assertFloatTensor(L, "w", tf.zeros([1]), ["n"]);
  });
});

Deno.test("assertSameShape: any differing dimension or rank, named in order", () => {
  tf.tidy(() => {
    const msg = (a: string, b: string) =>
      `Cannot compute ${L}: z1 and z2 must have the same shape, received [${a}] and [${b}]`;
    refuses(
      () => assertSameShape(L, "z1", tf.zeros([2, 3]), "z2", tf.zeros([2, 4])),
      TypeError,
      msg("2,3", "2,4"),
    );
    refuses(
      () => assertSameShape(L, "z1", tf.zeros([2, 3]), "z2", tf.zeros([3, 3])),
      TypeError,
      msg("2,3", "3,3"),
    );
    // a longer second shape whose prefix matches: only the rank differs
    refuses(
      () => assertSameShape(L, "z1", tf.zeros([2, 3]), "z2", tf.zeros([2, 3, 1])),
      TypeError,
      msg("2,3", "2,3,1"),
    );
    refuses(
      () => assertSameShape(L, "z1", tf.zeros([2, 3, 1]), "z2", tf.zeros([2, 3])),
      TypeError,
      msg("2,3,1", "2,3"),
    );
    assertSameShape(L, "z1", tf.zeros([2, 3]), "z2", tf.ones([2, 3]));
  });
});

Deno.test("assertPositive: a number, finite, > 0 (or >= 0 with allowZero)", () => {
  refuses(
    () => assertPositive(L, "temperature", "0.1"),
    TypeError,
    `Cannot compute ${L}: temperature must be a number, received string`,
  );
  // a tensor where a number belongs (a common slip: tf.scalar(0.1)) is named with its dtype and shape
  tf.tidy(() => {
    refuses(
      () => assertPositive(L, "temperature", tf.scalar(0.1)),
      TypeError,
      `Cannot compute ${L}: temperature must be a number, received a float32 tensor of shape []`,
    );
    refuses(
      () => assertFinite(L, "shift", tf.tensor1d([1, 2], "int32")),
      TypeError,
      `Cannot compute ${L}: shift must be a number, received a int32 tensor of shape [2]`,
    );
  });
  refuses(
    () => assertPositive(L, "temperature", undefined, true),
    TypeError,
    `Cannot compute ${L}: temperature must be a number, received undefined`,
  );
  const gt = (v: string) => `Cannot compute ${L}: t must be a finite number > 0, received ${v}`;
  const ge = (v: string) => `Cannot compute ${L}: t must be a finite number >= 0, received ${v}`;
  refuses(() => assertPositive(L, "t", 0), RangeError, gt("0"));
  refuses(() => assertPositive(L, "t", -0.5), RangeError, gt("-0.5"));
  refuses(() => assertPositive(L, "t", NaN), RangeError, gt("NaN"));
  refuses(() => assertPositive(L, "t", Infinity), RangeError, gt("Infinity"));
  refuses(() => assertPositive(L, "t", -1e-9, true), RangeError, ge("-1e-9"));
  refuses(() => assertPositive(L, "t", Infinity, true), RangeError, ge("Infinity"));
  refuses(() => assertPositive(L, "t", NaN, true), RangeError, ge("NaN"));
  assertPositive(L, "t", 1e-9);
  assertPositive(L, "t", 0, true);
  assertPositive(L, "t", 5, true);
  assertPositive(L, "t", 5, false);
});

Deno.test("assertFinite: a number of any sign, not NaN or infinite", () => {
  refuses(
    () => assertFinite(L, "shift", null),
    TypeError,
    `Cannot compute ${L}: shift must be a number, received null`,
  );
  const msg = (v: string) => `Cannot compute ${L}: shift must be finite, received ${v}`;
  refuses(() => assertFinite(L, "shift", NaN), RangeError, msg("NaN"));
  refuses(() => assertFinite(L, "shift", -Infinity), RangeError, msg("-Infinity"));
  assertFinite(L, "shift", -3.5);
  assertFinite(L, "shift", 0);
});

Deno.test("assertPositiveInteger: an integer >= 1", () => {
  refuses(
    () => assertPositiveInteger(L, "iterations", [3]),
    TypeError,
    `Cannot compute ${L}: iterations must be a number, received an array of length 1`,
  );
  const msg = (v: string) =>
    `Cannot compute ${L}: iterations must be an integer >= 1, received ${v}`;
  refuses(() => assertPositiveInteger(L, "iterations", 0), RangeError, msg("0"));
  refuses(() => assertPositiveInteger(L, "iterations", -2), RangeError, msg("-2"));
  refuses(() => assertPositiveInteger(L, "iterations", 1.5), RangeError, msg("1.5"));
  refuses(() => assertPositiveInteger(L, "iterations", Infinity), RangeError, msg("Infinity"));
  assertPositiveInteger(L, "iterations", 1);
  assertPositiveInteger(L, "iterations", 3);
});

Deno.test("assertLabels: an int32 tensor of shape [n]", () => {
  tf.tidy(() => {
    refuses(
      () => assertLabels(L, [0, 1, 2], 3),
      TypeError,
      `Cannot compute ${L}: labels must be an int32 tensor of shape [3], received an array of length 3`,
    );
    refuses(
      () => assertLabels(L, tf.zeros([3]), 3),
      TypeError,
      `Cannot compute ${L}: labels must be int32, received float32`,
    );
    const shape = (s: string) =>
      `Cannot compute ${L}: labels must have shape [3] (one per embedding), received [${s}]`;
    refuses(() => assertLabels(L, tf.zeros([4], "int32"), 3), TypeError, shape("4"));
    refuses(() => assertLabels(L, tf.zeros([3, 1], "int32"), 3), TypeError, shape("3,1"));
    refuses(() => assertLabels(L, tf.zeros([1, 3], "int32"), 3), TypeError, shape("1,3"));
    assertLabels(L, tf.zeros([3], "int32"), 3);
  });
});

Deno.test("assertOneOf: the allowed values quoted, the received one quoted if a string", () => {
  const allowed = ["mean", "sum"] as const;
  const msg = (v: string) =>
    `Cannot compute ${L}: reduction must be one of "mean", "sum", received ${v}`;
  refuses(() => assertOneOf(L, "reduction", "none", allowed), RangeError, msg(`"none"`));
  refuses(() => assertOneOf(L, "reduction", "", allowed), RangeError, msg(`""`));
  refuses(() => assertOneOf(L, "reduction", 1, allowed), RangeError, msg("1"));
  refuses(() => assertOneOf(L, "reduction", undefined, allowed), RangeError, msg("undefined"));
  assertOneOf(L, "reduction", "sum", allowed);
  assertOneOf(L, "reduction", "mean", allowed);
});

Deno.test("assertOptions: undefined or a plain object whose keys are all known", () => {
  const allowed = ["temperature", "reduction"];
  assertOptions(L, undefined, allowed);
  assertOptions(L, {}, allowed);
  assertOptions(L, {}, []);
  assertOptions(L, { temperature: 0.1, reduction: "sum" }, allowed);
  const notObject = (r: string) => `Cannot compute ${L}: options must be an object, received ${r}`;
  refuses(() => assertOptions(L, null, allowed), TypeError, notObject("null"));
  refuses(() => assertOptions(L, 0.1, allowed), TypeError, notObject("number"));
  refuses(() => assertOptions(L, "x", allowed), TypeError, notObject("string"));
  refuses(() => assertOptions(L, [], allowed), TypeError, notObject("an array of length 0"));
  refuses(
    () => assertOptions(L, { temp: 0.1 }, allowed),
    TypeError,
    `Cannot compute ${L}: unknown option "temp"; expected some of temperature, reduction`,
  );
  refuses(
    () => assertOptions(L, { temperature: 1, temp: 0.1, sum: true }, allowed),
    TypeError,
    `Cannot compute ${L}: unknown options "temp", "sum"; expected some of temperature, reduction`,
  );
  refuses(
    () => assertOptions(L, { temp: 0.1 }, []),
    TypeError,
    `Cannot compute ${L}: unknown option "temp"; expected none`,
  );
});

/**
 * Issue 17: `rejectUnknownKeys` (train/_validate.ts), its mirror test, with no tensors: each
 * refusal's exact message (not an object: null, an array, a number, a string, a function,
 * undefined; one unknown key; several, in the object's order), and what passes (no keys, some of
 * the allowed keys, keys an object inherits). Where `train` and the kNN helpers call it is tested
 * in their own tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejectUnknownKeys } from "../../train/_validate.ts";
import { thrown } from "../_utils.ts";

const type = (message: string) => ({ name: "TypeError", message });

Deno.test("rejectUnknownKeys: anything but a plain object or class instance is refused, naming its type", () => {
  for (
    const [value, kind] of [
      [null, "object"],
      [[], "object"],
      [[1, 2], "object"],
      [5, "number"],
      ["k", "string"],
      [() => 1, "function"],
      [undefined, "undefined"],
      [true, "boolean"],
    ] as const
  ) {
    assert.throws(
      () => rejectUnknownKeys(value as never, ["k"], "do it"),
      type(`Cannot do it: options must be an object, received ${kind}`),
      String(value),
    );
  }
});

Deno.test("rejectUnknownKeys: one unknown key, then several in the object's order, with the allowed list", () => {
  assert.throws(
    () => rejectUnknownKeys({ k: 1, kk: 2 }, ["k", "temperature"], "build the kNN monitor"),
    type('Cannot build the kNN monitor: unknown option "kk"; expected some of k, temperature'),
  );
  const e = thrown(() => rejectUnknownKeys({ z: 1, a: 2, k: 3, b: undefined }, ["k"], "train"));
  assert.ok(e instanceof TypeError);
  assert.equal(e.message, 'Cannot train: unknown options "z", "a", "b"; expected some of k');
  assert.throws(
    () => rejectUnknownKeys({ x: 1 }, [], "run"),
    type('Cannot run: unknown option "x"; expected some of '),
  );
});

Deno.test("rejectUnknownKeys: no keys, allowed keys and inherited keys pass", () => {
  assert.equal(rejectUnknownKeys({}, [], "run"), undefined);
  assert.equal(rejectUnknownKeys({}, ["a"], "run"), undefined);
  assert.equal(rejectUnknownKeys({ a: 1, b: undefined }, ["a", "b", "c"], "run"), undefined);
  assert.equal(rejectUnknownKeys(Object.create({ zzz: 1 }), ["a"], "run"), undefined);
  assert.equal(rejectUnknownKeys(new Date(0), [], "run"), undefined);
});

import { tf } from "../backend/tf.ts";

/** A tensor's bytes and metadata, as {@linkcode serializeTree} collects them. */
export interface SerializedTensor {
  /** Element type. */
  dtype: "float32" | "int32" | "bool";
  /** Shape. */
  shape: number[];
  /** Values, row-major. */
  data: Float32Array | Int32Array | Uint8Array;
  /** Where it was found in the tree (`nets.encoder/conv1/kernel`), when serialized. */
  where?: string;
}

/** A tree turned into JSON (`spec`) plus the tensors it refers to by index. */
export interface SerializedTree {
  /** JSON-safe description; tensors appear as `{ "$tensor": i }` and similar markers. */
  spec: unknown;
  /** The tensors, in the order the spec refers to them. */
  tensors: SerializedTensor[];
}

/** What a LayersModel looks like to the serializer (duck-typed, so any tfjs-layers model works). */
export interface ModelLike {
  /** Every weight (trainable and not, e.g. BatchNorm statistics), in the model's order. */
  readonly weights: { name: string; shape: (number | null)[]; read(): tf.Tensor }[];
  /** The current values, in the order of `weights`. */
  getWeights(): tf.Tensor[];
  /** Assigns values in the order of `weights`. */
  setWeights(weights: tf.Tensor[]): void;
}

/**
 * Whether `x` is a tfjs-layers model (or anything with its weight API).
 *
 * @param x any value
 * @returns true when it has `weights`, `getWeights` and `setWeights`
 *
 * @example
 * ```ts
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { isModelLike } from "./serialize.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isModelLike(tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] })));
 * assert.ok(!isModelLike({ weights: [] }));
 * ```
 */
export function isModelLike(x: unknown): x is ModelLike {
  return typeof x === "object" && x !== null &&
    Array.isArray((x as ModelLike).weights) &&
    typeof (x as ModelLike).getWeights === "function" &&
    typeof (x as ModelLike).setWeights === "function";
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** A path for a message: the empty path (the tree itself) named as such. */
function named(where: string): string {
  return where || "the tree";
}

/** A model's weight's path: its name, after the model's path unless the model is the tree. */
function weightPath(where: string, name: string): string {
  return where ? `${where}/${name}` : name;
}

function pushTensor(t: tf.Tensor, tensors: SerializedTensor[], where: string): number {
  if (t.dtype !== "float32" && t.dtype !== "int32" && t.dtype !== "bool") {
    throw new TypeError(
      `Cannot serialize ${
        named(where)
      }: expected a float32, int32 or bool tensor, received ${t.dtype}`,
    );
  }
  const raw = t.dataSync();
  const data = t.dtype === "float32"
    ? Float32Array.from(raw as Float32Array)
    : t.dtype === "int32"
    ? Int32Array.from(raw as Int32Array)
    : Uint8Array.from(raw as Uint8Array);
  tensors.push({ dtype: t.dtype, shape: [...t.shape], data, where: named(where) });
  return tensors.length - 1;
}

/**
 * Turns a tree of nets and state into JSON plus tensors: LayersModels (all weights, BatchNorm
 * statistics included, in model order with their names), tf.Variables, tf.Tensors, numbers
 * (NaN and ±Infinity included), strings, booleans, null, undefined, arrays and plain objects.
 * Anything else is a TypeError naming where it was found.
 *
 * @param tree the value to serialize
 * @returns the JSON spec and the tensors it refers to (copies)
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { restoreTree, serializeTree } from "./serialize.ts";
 * import assert from "node:assert/strict";
 * const t = tf.tensor1d([1, 2]);
 * const saved = serializeTree({ queue: t, count: 3 });
 * const back = restoreTree(saved) as { queue: tf.Tensor; count: number };
 * assert.deepEqual(Array.from(back.queue.dataSync()), [1, 2]);
 * assert.equal(back.count, 3);
 * tf.dispose([t, back.queue]);
 * ```
 */
export function serializeTree(tree: unknown): SerializedTree {
  const tensors: SerializedTensor[] = [];
  const walk = (x: unknown, where: string): unknown => {
    if (x === null) return null;
    if (x === undefined) return { $undefined: true };
    if (typeof x === "number") return Number.isFinite(x) ? x : { $number: String(x) };
    if (typeof x === "string" || typeof x === "boolean") return x;
    if (x instanceof tf.Variable) {
      return { $variable: pushTensor(x, tensors, where), trainable: x.trainable, name: x.name };
    }
    if (x instanceof tf.Tensor) return { $tensor: pushTensor(x, tensors, where) };
    if (isModelLike(x)) {
      const names = x.weights.map((w) => w.name);
      const values = x.getWeights();
      return {
        $model: values.map((v, i) => pushTensor(v, tensors, weightPath(where, names[i]))),
        names,
      };
    }
    if (Array.isArray(x)) return x.map((e, i) => walk(e, `${where}[${i}]`));
    if (isPlainObject(x)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) out[k] = walk(v, where ? `${where}.${k}` : k);
      return { $object: out };
    }
    throw new TypeError(
      `Cannot serialize ${named(where)}: expected a LayersModel, tf.Variable, tf.Tensor, ` +
        `number, string, boolean, null, array or plain object, received ${
          (x as object)?.constructor?.name ?? typeof x
        }`,
    );
  };
  return { spec: walk(tree, ""), tensors };
}

function makeTensor(s: SerializedTensor): tf.Tensor {
  return tf.tensor(s.data, s.shape, s.dtype);
}

/**
 * Rebuilds a tree written by {@linkcode serializeTree}. With a `template` (the live tree of the
 * same structure) models and variables are restored in place (weights assigned, shapes checked)
 * and returned as the same objects; tensors always come back as new tensors owned by the caller.
 *
 * @param saved what `serializeTree` returned (or read back from disk)
 * @param template the live structure to restore models and variables into
 * @returns the restored tree
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { restoreTree, serializeTree } from "./serialize.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const saved = serializeTree({ w });
 * w.assign(tf.tensor1d([0, 0]));
 * restoreTree(saved, { w });
 * assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
 * w.dispose();
 * ```
 */
export function restoreTree(saved: SerializedTree, template?: unknown): unknown {
  const { tensors } = saved;
  const get = (i: unknown, where: string): SerializedTensor => {
    if (typeof i !== "number" || !tensors[i]) {
      throw new TypeError(`Cannot restore ${named(where)}: tensor index ${i} is missing`);
    }
    return tensors[i];
  };
  const walk = (s: unknown, t: unknown, where: string): unknown => {
    if (s === null || typeof s !== "object") return s;
    if (Array.isArray(s)) {
      return s.map((e, i) => walk(e, Array.isArray(t) ? t[i] : undefined, `${where}[${i}]`));
    }
    const o = s as Record<string, unknown>;
    if ("$undefined" in o) return undefined;
    if ("$number" in o) return Number(o.$number);
    if ("$tensor" in o) return makeTensor(get(o.$tensor, where));
    if ("$variable" in o) {
      const st = get(o.$variable, where);
      if (t instanceof tf.Variable) {
        if (t.shape.join(",") !== st.shape.join(",")) {
          throw new TypeError(
            `Cannot restore ${named(where)}: expected shape [${t.shape}], received [${st.shape}]`,
          );
        }
        tf.tidy(() => t.assign(makeTensor(st)));
        return t;
      }
      return tf.tidy(() => tf.variable(makeTensor(st), o.trainable as boolean));
    }
    if ("$model" in o) {
      if (!isModelLike(t)) {
        throw new TypeError(
          `Cannot restore ${
            named(where)
          }: a model needs a live model to restore into, received ${typeof t}`,
        );
      }
      const idx = o.$model as number[];
      if (idx.length !== t.weights.length) {
        throw new TypeError(
          `Cannot restore ${
            named(where)
          }: expected ${t.weights.length} weights, received ${idx.length}`,
        );
      }
      const values = idx.map((i, k) => {
        const path = weightPath(where, t.weights[k].name);
        const st = get(i, path);
        const shape = t.weights[k].shape;
        if (shape.join(",") !== st.shape.join(",")) {
          throw new TypeError(
            `Cannot restore ${path}: expected shape [${shape}], received [${st.shape}]`,
          );
        }
        return makeTensor(st);
      });
      t.setWeights(values);
      tf.dispose(values);
      return t;
    }
    if ("$object" in o) {
      const out: Record<string, unknown> = {};
      const tt = isPlainObject(t) ? t : undefined;
      for (const [k, v] of Object.entries(o.$object as Record<string, unknown>)) {
        out[k] = walk(v, tt?.[k], where ? `${where}.${k}` : k);
      }
      return out;
    }
    throw new TypeError(`Cannot restore ${named(where)}: unrecognized entry`);
  };
  return walk(saved.spec, template, "");
}

/**
 * Every tensor in a tree (arrays and plain objects walked; models not entered, since their
 * weights belong to them).
 *
 * @param tree any value
 * @param out where to collect (also returned)
 * @returns the tensors found, variables included
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { treeTensors } from "./serialize.ts";
 * import assert from "node:assert/strict";
 * const a = tf.scalar(1);
 * assert.deepEqual(treeTensors({ x: [a, 2] }), [a]);
 * a.dispose();
 * ```
 */
export function treeTensors(tree: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (tree instanceof tf.Tensor) out.push(tree);
  else if (Array.isArray(tree)) { for (const e of tree) treeTensors(e, out); }
  else if (isPlainObject(tree)) { for (const v of Object.values(tree)) treeTensors(v, out); }
  return out;
}

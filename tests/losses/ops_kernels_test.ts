/**
 * How `losses/_ops.ts` hands its two one-op losses to a backend's own kernels: `logSumExpMatMul`
 * runs `LSE_MATMUL_KERNEL` and its grad kernel, `cosineCrossEntropy` `COSINE_XENT_KERNEL` and its
 * grad kernel, but only when the backend registers both of the pair. Only `native` does, and only
 * with oneDNN, so these paths were tested nowhere else (the native tests compare values, which the
 * generic path gives too). Here recording stand-ins are registered on `cpu`: each test checks
 * which path ran, the inputs' names and values, the attributes, the state handed from the forward
 * to the backward kernel, and that the kernel's outputs are what the op returns.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { cosineCrossEntropy, type CosineLoss, logSumExpMatMul } from "../../losses/_ops.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend("cpu");

const EXACT = { rtol: 0, atol: 0 };

// The kernel names a backend registers (backend/native/_dnnl_softmax.ts spells them too), written
// out rather than imported, so that the names themselves are checked.
const LSE_MATMUL_KERNEL = "SelfsupLogSumExpMatMul";
const LSE_MATMUL_GRAD_KERNEL = "SelfsupLogSumExpMatMulGrad";
const COSINE_XENT_KERNEL = "SelfsupCosineCrossEntropy";
const COSINE_XENT_GRAD_KERNEL = "SelfsupCosineCrossEntropyGrad";

interface Call {
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
}

type CpuInfo = { makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo };

/**
 * Registers a stand-in for `name` on cpu that records each call's inputs (by name, with their
 * values) and attributes, and returns `outputs` (shape and fill value each). Returns the calls and
 * the function that unregisters it.
 */
function stand(
  name: string,
  outputs: (call: Call) => [number[], number][],
): { calls: Call[]; remove: () => void } {
  const calls: Call[] = [];
  tf.registerKernel({
    kernelName: name,
    backendName: "cpu",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as CpuInfo & { readSync(id: unknown): ArrayLike<number> };
      const call: Call = { inputs: {}, attrs: { ...attrs } };
      for (const [k, t] of Object.entries(inputs)) {
        call.inputs[k] = Array.from(be.readSync((t as tf.TensorInfo).dataId));
      }
      calls.push(call);
      return outputs(call).map(([shape, fill]) =>
        be.makeTensorInfo(
          shape,
          "float32",
          new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
        )
      );
    },
  });
  return { calls, remove: () => tf.unregisterKernel(name, "cpu") };
}

const A = [[1, 2], [3, -1], [0.5, 0.25]];
const B = [[2, 0], [-1, 1], [1, 1], [0, -3]];
const T = [0.5, -0.5, 2];
const E = [1.5, 0.75, -1];
const flat = (m: number[][]) => m.flat().map(Math.fround);

/** `logSumExpMatMul` on A, B, T (E when `extra`), its value and gradients for the seed `dy`. */
function lse(
  extra: boolean,
  options: Parameters<typeof logSumExpMatMul>[4],
  dy = 2,
): number[][] {
  return tf.tidy(() => {
    const xs = [tf.tensor2d(A), tf.tensor2d(B), tf.tensor1d(T)];
    if (extra) xs.push(tf.tensor1d(E));
    const f = (...v: tf.Tensor[]) =>
      logSumExpMatMul(
        v[0] as tf.Tensor2D,
        v[1] as tf.Tensor2D,
        v[2] as tf.Tensor1D,
        v[3] as tf.Tensor1D | undefined,
        options,
      );
    const { value, grads } = tf.valueAndGrads(f)(xs, tf.scalar(dy));
    return [value, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

/** The stand-in pair for LSE_MATMUL: value 7.5, two state tensors, gradients filled 1, 2, 3. */
function lsePair(extra: boolean) {
  const fwd = stand(LSE_MATMUL_KERNEL, () => [[[], 7.5], [[3], 0.125], [[2, 2], -4]]);
  const bwd = stand(
    LSE_MATMUL_GRAD_KERNEL,
    () => extra ? [[[3, 2], 1], [[4, 2], 2], [[3], 3]] : [[[3, 2], 1], [[4, 2], 2]],
  );
  return { fwd, bwd, remove: () => (fwd.remove(), bwd.remove()) };
}

Deno.test("logSumExpMatMul runs a backend's registered kernel pair, passing inputs, attributes and state", () => {
  for (const extra of [false, true]) {
    const pair = lsePair(extra);
    try {
      const options = { scale: 3, rowWeight: 0.25, colWeight: 0.5, constB: true };
      const [value, da, db, dt, de] = lse(extra, options);
      assert.deepEqual(value, [7.5], "the forward kernel's value");
      assert.equal(pair.fwd.calls.length, 1);
      const f = pair.fwd.calls[0];
      assert.deepEqual(
        Object.keys(f.inputs).sort(),
        extra ? ["a", "b", "extra", "target"] : ["a", "b", "target"],
      );
      assert.deepEqual(f.inputs.a, flat(A));
      assert.deepEqual(f.inputs.b, flat(B));
      assert.deepEqual(f.inputs.target, T);
      if (extra) assert.deepEqual(f.inputs.extra, E);
      // every option reaches the kernel, the unset maskDiagonal with its default false
      assert.deepEqual(f.attrs, {
        scale: 3,
        rowWeight: 0.25,
        colWeight: 0.5,
        maskDiagonal: false,
        constB: true,
      });
      assert.equal(pair.bwd.calls.length, 1);
      const g = pair.bwd.calls[0];
      assert.deepEqual(
        Object.keys(g.inputs).sort(),
        extra
          ? ["a", "b", "dy", "extra", "state0", "state1"]
          : ["a", "b", "dy", "state0", "state1"],
      );
      assert.deepEqual(g.inputs.a, flat(A));
      assert.deepEqual(g.inputs.b, flat(B));
      if (extra) assert.deepEqual(g.inputs.extra, E);
      assert.deepEqual(g.inputs.dy, [2]);
      assert.deepEqual(
        g.inputs.state0,
        [0.125, 0.125, 0.125],
        "the forward kernel's state, in order",
      );
      assert.deepEqual(g.inputs.state1, [-4, -4, -4, -4]);
      assert.deepEqual(g.attrs, f.attrs);
      // the gradients are the grad kernel's; the targets' is -(rowWeight + colWeight)·dy each
      assertTensorClose(da, new Array(6).fill(1), EXACT);
      assertTensorClose(db, new Array(8).fill(2), EXACT);
      assertTensorClose(dt, new Array(3).fill(-(0.25 + 0.5) * 2), EXACT);
      if (extra) assertTensorClose(de, new Array(3).fill(3), EXACT);
      else assert.equal(de, undefined);
    } finally {
      pair.remove();
    }
  }
  // unset colWeight and constB reach the kernel as 0 and false
  const pair = lsePair(false);
  try {
    lse(false, { scale: 1, rowWeight: 1, maskDiagonal: true });
    assert.deepEqual(pair.fwd.calls[0].attrs, {
      scale: 1,
      rowWeight: 1,
      colWeight: 0,
      maskDiagonal: true,
      constB: false,
    });
  } finally {
    pair.remove();
  }
});

Deno.test("logSumExpMatMul runs its own ops when a backend registers only one kernel of the pair", () => {
  const options = { scale: 2, rowWeight: 0.5 };
  const want = lse(true, options);
  assert.notEqual(want[0][0], 7.5);
  for (const name of [LSE_MATMUL_KERNEL, LSE_MATMUL_GRAD_KERNEL]) {
    const one = name === LSE_MATMUL_KERNEL
      ? stand(name, () => [[[], 7.5]])
      : stand(name, () => [[[3, 2], 1], [[4, 2], 2], [[3], 3]]);
    try {
      const got = lse(true, options);
      assert.equal(one.calls.length, 0, `${name} alone must not run`);
      for (let i = 0; i < want.length; i++) assertTensorClose(got[i], want[i], EXACT);
    } finally {
      one.remove();
    }
  }
});

const X = [[1, 0, 2], [0, 1, -1], [2, 2, 0]];
const Y = [[0, 1, 0], [1, 0, 0], [0, 0, 1]];
const Z = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.6, 0.8, 0]];

/** `cosineCrossEntropy(loss, X, Y[, Z], 0.2)`: value and the gradients of x, y (and z). */
function cosine(loss: CosineLoss, dy = 3): number[][] {
  return tf.tidy(() => {
    const xs = [tf.tensor2d(X), tf.tensor2d(Y)];
    if (loss === "moco") xs.push(tf.tensor2d(Z));
    const { value, grads } = tf.valueAndGrads((...v: tf.Tensor[]) =>
      cosineCrossEntropy(
        loss,
        v[0] as tf.Tensor2D,
        v[1] as tf.Tensor2D,
        v[2] as tf.Tensor2D | undefined,
        0.2,
      )
    )(xs, tf.scalar(dy));
    return [value, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

Deno.test("cosineCrossEntropy runs a backend's registered kernel pair, passing inputs, attributes and state", () => {
  for (const loss of ["ntXent", "infoNce", "moco"] as const) {
    const moco = loss === "moco";
    const fwd = stand(COSINE_XENT_KERNEL, () => [[[], 4.25], [[3], 0.5], [[3, 3], -2]]);
    const bwd = stand(
      COSINE_XENT_GRAD_KERNEL,
      () => moco ? [[[3, 3], 1], [[3, 3], 2], [[4, 3], 3]] : [[[3, 3], 1], [[3, 3], 2]],
    );
    try {
      const [value, gx, gy, gz] = cosine(loss);
      assert.deepEqual(value, [4.25], `${loss}: the forward kernel's value`);
      assert.equal(fwd.calls.length, 1);
      const f = fwd.calls[0];
      assert.deepEqual(Object.keys(f.inputs).sort(), moco ? ["x", "y", "z"] : ["x", "y"]);
      assert.deepEqual(f.inputs.x, flat(X));
      assert.deepEqual(f.inputs.y, flat(Y));
      if (moco) assert.deepEqual(f.inputs.z, flat(Z));
      assert.deepEqual(f.attrs, { loss, temperature: 0.2 });
      assert.equal(bwd.calls.length, 1);
      const g = bwd.calls[0];
      assert.deepEqual(
        Object.keys(g.inputs).sort(),
        moco ? ["dy", "state0", "state1", "y", "z"] : ["dy", "state0", "state1", "y"],
      );
      assert.deepEqual(g.inputs.y, flat(Y));
      if (moco) assert.deepEqual(g.inputs.z, flat(Z));
      assert.deepEqual(g.inputs.dy, [3]);
      assert.deepEqual(g.inputs.state0, [0.5, 0.5, 0.5], `${loss}: the forward's state, in order`);
      assert.deepEqual(g.inputs.state1, new Array(9).fill(-2));
      assert.deepEqual(g.attrs, f.attrs);
      assertTensorClose(gx, new Array(9).fill(1), EXACT);
      assertTensorClose(gy, new Array(9).fill(2), EXACT);
      if (moco) assertTensorClose(gz, new Array(12).fill(3), EXACT);
    } finally {
      fwd.remove();
      bwd.remove();
    }
  }
});

Deno.test("cosineCrossEntropy runs its own ops when a backend registers only one kernel of the pair", () => {
  for (const loss of ["ntXent", "infoNce", "moco"] as const) {
    const want = cosine(loss);
    assert.notEqual(want[0][0], 4.25);
    for (const name of [COSINE_XENT_KERNEL, COSINE_XENT_GRAD_KERNEL]) {
      const one = stand(name, () => [[[], 4.25]]);
      try {
        const got = cosine(loss);
        assert.equal(one.calls.length, 0, `${loss}: ${name} alone must not run`);
        for (let i = 0; i < want.length; i++) assertTensorClose(got[i], want[i], EXACT);
      } finally {
        one.remove();
      }
    }
  }
});

Deno.test("cosineCrossEntropy's own path hands each loss's log-partition to a registered LSE pair", () => {
  // n = 3 rows: NT-Xent stacks both views (6 rows, the positives twice, its diagonal masked);
  // InfoNCE weighs rows and columns by 1/(2n); MoCo's queue is constant and its positive the extra
  // logit, weight 1/n.
  const cases: [CosineLoss, Record<string, unknown>, string[]][] = [
    ["ntXent", { scale: 5, rowWeight: 1 / 6, colWeight: 0, maskDiagonal: true, constB: false }, [
      "a",
      "b",
      "target",
    ]],
    ["infoNce", {
      scale: 5,
      rowWeight: 1 / 6,
      colWeight: 1 / 6,
      maskDiagonal: false,
      constB: false,
    }, [
      "a",
      "b",
      "target",
    ]],
    ["moco", { scale: 5, rowWeight: 1 / 3, colWeight: 0, maskDiagonal: false, constB: true }, [
      "a",
      "b",
      "extra",
      "target",
    ]],
  ];
  const unit = (m: number[][]) =>
    m.map((r) => {
      const norm = Math.hypot(...r);
      return r.map((v) => v / norm);
    });
  const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
  for (const [loss, attrs, names] of cases) {
    const pair = lsePair(loss === "moco");
    try {
      const value = tf.tidy(() => {
        const z = loss === "moco" ? tf.tensor2d(Z) : undefined;
        return cosineCrossEntropy(loss, tf.tensor2d(X), tf.tensor2d(Y), z, 0.2).dataSync()[0];
      });
      assert.equal(value, 7.5, `${loss}: the LSE kernel's value`);
      const f = pair.fwd.calls[0];
      assert.deepEqual(f.attrs, attrs, loss);
      assert.deepEqual(Object.keys(f.inputs).sort(), names, loss);
      const x = unit(X), y = unit(Y);
      const pos = x.map((r, i) => 5 * dot(r, y[i]));
      const close = { rtol: 1e-6, atol: 1e-6 };
      if (loss === "ntXent") {
        assertTensorClose(f.inputs.a, [...x, ...y].flat(), close);
        assertTensorClose(f.inputs.b, [...x, ...y].flat(), close);
        assertTensorClose(f.inputs.target, [...pos, ...pos], close);
      } else if (loss === "infoNce") {
        assertTensorClose(f.inputs.a, x.flat(), close);
        assertTensorClose(f.inputs.b, y.flat(), close);
        assertTensorClose(f.inputs.target, pos, close);
      } else {
        // MoCo's keys and queue arrive normalized already: Y and Z are unit rows
        assertTensorClose(f.inputs.a, x.flat(), close);
        assertTensorClose(f.inputs.b, flat(Z), close);
        assertTensorClose(f.inputs.target, pos, close);
        assertTensorClose(f.inputs.extra, pos, close);
      }
    } finally {
      pair.remove();
    }
  }
});

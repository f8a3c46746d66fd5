import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { adamw, excludedFromWeightDecay, lars, type Optimizer, sgd } from "../../train/mod.ts";
import { assertNoLeak, assertTensorClose, pcg32, randomNormal, setupBackend } from "../_utils.ts";

await setupBackend();

const TOL = { rtol: 1e-4, atol: 1e-6 };

/** Weights and per-step gradients of a kernel `[3, 2]` and a bias `[2]`, as float64. */
function problem(seed: number, steps: number) {
  const prng = pcg32(seed);
  return {
    kernel: Array.from(randomNormal(6, prng)),
    bias: Array.from(randomNormal(2, prng)),
    grads: Array.from({ length: steps }, () => ({
      kernel: Array.from(randomNormal(6, prng)),
      bias: Array.from(randomNormal(2, prng)),
    })),
  };
}

type Ref = (
  w: number[],
  g: number[],
  slots: Record<string, number[]>,
  t: number,
  lr: number,
  decay: boolean,
) => number[];

/** Runs `opt` over the problem and the float64 reference `ref` side by side. */
function compare(
  make: (vars: tf.Variable[]) => Optimizer,
  ref: Ref,
  lrs: number[],
  seed = 1,
) {
  const p = problem(seed, lrs.length);
  const kernel = tf.variable(tf.tensor2d(p.kernel, [3, 2]), true, `opt_test_${seed}/dense/kernel`);
  const bias = tf.variable(tf.tensor1d(p.bias), true, `opt_test_${seed}/dense/bias`);
  const opt = make([kernel, bias]);
  const w = { kernel: [...p.kernel], bias: [...p.bias] };
  const slots = { kernel: {} as Record<string, number[]>, bias: {} as Record<string, number[]> };
  lrs.forEach((lr, t) => {
    const gk = tf.tensor2d(p.grads[t].kernel, [3, 2]);
    const gb = tf.tensor1d(p.grads[t].bias);
    opt.apply([gk, gb], lr);
    tf.dispose([gk, gb]);
    w.kernel = ref(w.kernel, p.grads[t].kernel, slots.kernel, t + 1, lr, true);
    w.bias = ref(w.bias, p.grads[t].bias, slots.bias, t + 1, lr, false);
    assertTensorClose(kernel, w.kernel, TOL, `kernel after step ${t + 1}`);
    assertTensorClose(bias, w.bias, TOL, `bias after step ${t + 1}`);
  });
  opt.dispose();
  tf.dispose([kernel, bias]);
}

const norm = (x: number[]) => Math.sqrt(x.reduce((a, b) => a + b * b, 0));

Deno.test("SGD with momentum 0.8 and L2 decay matches a float64 reference; no decay on biases", () => {
  const mu = 0.8, wd = 0.05;
  compare((v) => sgd(v, { momentum: mu, weightDecay: wd }), (w, g, s, _t, lr, decay) => {
    const gg = g.map((gi, i) => gi + (decay ? wd * w[i] : 0));
    s.buf = s.buf ? s.buf.map((b, i) => mu * b + gg[i]) : gg;
    return w.map((wi, i) => wi - lr * s.buf[i]);
  }, [0.1, 0.05, 0.2, 0.1]);
});

Deno.test("SGD with Nesterov momentum matches PyTorch's formula", () => {
  const mu = 0.9;
  compare(
    (v) => sgd(v, { momentum: mu, nesterov: true }),
    (w, g, s, _t, lr) => {
      s.buf = s.buf ? s.buf.map((b, i) => mu * b + g[i]) : [...g];
      return w.map((wi, i) => wi - lr * (g[i] + mu * s.buf[i]));
    },
    [0.1, 0.1, 0.1],
    2,
  );
});

Deno.test("AdamW applies decoupled weight decay (not through the moments), bias-corrected", () => {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  compare(
    (v) => adamw(v, { weightDecay: wd }),
    (w, g, s, t, lr, decay) => {
      s.m = (s.m ?? g.map(() => 0)).map((m, i) => b1 * m + (1 - b1) * g[i]);
      s.v = (s.v ?? g.map(() => 0)).map((v, i) => b2 * v + (1 - b2) * g[i] * g[i]);
      return w.map((wi, i) => {
        const mh = s.m[i] / (1 - b1 ** t), vh = s.v[i] / (1 - b2 ** t);
        return wi * (decay ? 1 - lr * wd : 1) - lr * mh / (Math.sqrt(vh) + eps);
      });
    },
    [0.01, 0.02, 0.01, 0.005],
    3,
  );
});

Deno.test("AdamW decay differs from L2: zero gradient still shrinks weights by lr*wd", () => {
  const w = tf.variable(tf.tensor2d([[2, -4]]));
  const opt = adamw([w], { weightDecay: 0.5 });
  const g = tf.zeros([1, 2]);
  opt.apply([g], 0.1);
  assertTensorClose(w, [[2 * 0.95, -4 * 0.95]], TOL);
  opt.dispose();
  tf.dispose([w, g]);
});

Deno.test("LARS scales the step by the trust ratio eta*||w||/||g+wd*w||; biases are not adapted", () => {
  const mu = 0.9, wd = 1e-3, eta = 0.02;
  compare(
    (v) => lars(v, { momentum: mu, weightDecay: wd, eta }),
    (w, g, s, _t, lr, adapt) => {
      let gg = g, local = lr;
      if (adapt) {
        gg = g.map((gi, i) => gi + wd * w[i]);
        local = lr * eta * norm(w) / norm(gg);
      }
      s.v = (s.v ?? g.map(() => 0)).map((v, i) => mu * v + local * gg[i]);
      return w.map((wi, i) => wi - s.v[i]);
    },
    [1, 0.5, 1],
    4,
  );
});

Deno.test("optimizer state round trip continues exactly like an uninterrupted optimizer", () => {
  for (
    const make of [
      (v: tf.Variable[]) => sgd(v),
      (v: tf.Variable[]) => adamw(v),
      (v: tf.Variable[]) => lars(v),
    ]
  ) {
    const p = problem(5, 4);
    const a = tf.variable(tf.tensor2d(p.kernel, [3, 2]));
    const b = tf.variable(tf.tensor2d(p.kernel, [3, 2]));
    const optA = make([a]);
    let optB = make([b]);
    p.grads.forEach((g, t) => {
      const gt = tf.tensor2d(g.kernel, [3, 2]);
      optA.apply([gt], 0.1);
      optB.apply([gt], 0.1);
      gt.dispose();
      if (t === 1) { // "restart" B from its saved state
        const saved = optB.getState();
        optB.dispose();
        optB = make([b]);
        optB.setState(saved);
        tf.dispose(Object.values(saved.slots).flat());
      }
    });
    assert.equal(optB.iterations, 4);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), optA.name);
    optA.dispose();
    optB.dispose();
    tf.dispose([a, b]);
  }
});

Deno.test("optimizers leak no tensors per update and reject bad options", async () => {
  const w = tf.variable(tf.ones([4, 4]));
  const g = tf.ones([4, 4]);
  for (const opt of [sgd([w], { nesterov: true }), adamw([w]), lars([w])]) {
    opt.apply([g], 0.1);
    await assertNoLeak(() => opt.apply([g], 0.1), opt.name);
    opt.dispose();
  }
  assert.throws(() => sgd([w], { momentum: 1 }), RangeError);
  assert.throws(() => adamw([w], { beta2: -0.1 }), RangeError);
  assert.throws(() => lars([w], { eta: 0 }), RangeError);
  assert.throws(() => sgd([g as tf.Variable]), TypeError);
  const opt = sgd([w]);
  assert.throws(() => opt.apply([g, g], 0.1), /expected 1 gradients, received 2/);
  assert.throws(() => opt.apply([g], NaN), RangeError);
  opt.dispose();
  tf.dispose([w, g]);
});

Deno.test("weight decay exclusion: rank <= 1 and BatchNorm names are excluded, kernels are not", () => {
  const vs = [
    tf.variable(tf.zeros([3, 3, 1, 4]), true, "excl/conv2d/kernel"),
    tf.variable(tf.zeros([4]), true, "excl/conv2d/bias"),
    tf.variable(tf.zeros([4]), true, "excl/batch_normalization/gamma"),
    tf.variable(tf.zeros([2, 4]), true, "excl/prototypes"),
  ];
  assert.deepEqual(vs.map(excludedFromWeightDecay), [false, true, true, false]);
  tf.dispose(vs);
});

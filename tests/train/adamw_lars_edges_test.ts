/**
 * AdamW, LARS and the optimizer base (`SlotOptimizer`) at their edges (issue 17, fourth mutation
 * pass): exact messages of every refused option, the inclusive ends of each range, the
 * documented defaults, LARS's trust ratio falling back to 1 when a norm is zero, a null gradient
 * skipping its variable, per-variable rates, the saved state's names and copies, every refused
 * restore, and which variable names are spared weight decay.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { adamw, excludedFromWeightDecay, lars, sgd } from "../../train/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

const TOL = { rtol: 1e-5, atol: 1e-7 };
const range = (message: string) => ({ name: "RangeError", message });
const type = (message: string) => ({ name: "TypeError", message });

Deno.test("adamw: every refused option named with the value received; the inclusive ends accepted", () => {
  const w = tf.variable(tf.tensor2d([[1, 2]]));
  for (const [name, value] of [["beta1", 1], ["beta1", -0.5], ["beta2", 1], ["beta2", NaN]]) {
    assert.throws(
      () => adamw([w], { [name]: value }),
      range(`Cannot create adamw: ${name} must be in [0, 1), received ${value}`),
    );
  }
  assert.throws(
    () => adamw([w], { epsilon: 0 }),
    range("Cannot create adamw: epsilon must be > 0, received 0"),
  );
  assert.throws(
    () => adamw([w], { weightDecay: -0.1 }),
    range("Cannot create adamw: weightDecay must be >= 0, received -0.1"),
  );
  assert.throws(() => adamw([tf.zeros([1]) as tf.Variable]), {
    name: "TypeError",
    message: "Cannot create adamw: expected an array of tf.Variable",
  });
  // beta1 = beta2 = 0 and weightDecay = 0 are allowed: then the step is lr * g / (|g| + eps)
  const opt = adamw([w], { beta1: 0, beta2: 0, weightDecay: 0 });
  assert.equal(opt.name, "adamw");
  assert.deepEqual(Object.keys(opt.getState().slots).sort(), ["m", "v"]);
  const g = tf.tensor2d([[2, -0.5]]);
  opt.apply([g], 0.1);
  opt.apply([g], 0.1);
  assertTensorClose(w, [[1 - 0.2, 2 + 0.2]], TOL);
  opt.dispose();
  tf.dispose([w, g]);
});

Deno.test("adamw defaults: beta1 0.9, beta2 0.999, epsilon 1e-8, weightDecay 0.01 (the same trajectory as explicit ones)", () => {
  const run = (options?: Parameters<typeof adamw>[1]) => {
    const w = tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]), true, "defaults/dense/kernel");
    const opt = adamw([w], options);
    for (let t = 0; t < 4; t++) {
      // gradients near epsilon's scale so that it shows in the step
      const g = tf.tensor2d([[1e-8 * (t + 1), -3e-8], [0.4, -1e-8 * t]]);
      opt.apply([g], 0.1);
      g.dispose();
    }
    const out = Array.from(w.dataSync());
    opt.dispose();
    w.dispose();
    return out;
  };
  const explicit = run({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
  assert.deepEqual(run(), explicit);
  for (
    const other of [{ beta1: 0.8 }, { beta2: 0.99 }, { epsilon: 1e-7 }, { weightDecay: 0.02 }]
  ) {
    assert.notDeepEqual(run(other), explicit, JSON.stringify(other));
  }
});

Deno.test("lars: every refused option named; momentum 0 and weightDecay 0 accepted; defaults momentum 0.9, wd 1e-6, eta 0.001", () => {
  const w = tf.variable(tf.tensor2d([[3, 4]]));
  for (const m of [1, -0.1]) {
    assert.throws(
      () => lars([w], { momentum: m }),
      range(`Cannot create lars: momentum must be in [0, 1), received ${m}`),
    );
  }
  assert.throws(
    () => lars([w], { weightDecay: -1 }),
    range("Cannot create lars: weightDecay must be >= 0, received -1"),
  );
  assert.throws(
    () => lars([w], { eta: 0 }),
    range("Cannot create lars: eta must be > 0, received 0"),
  );
  assert.throws(() => lars([tf.zeros([1]) as tf.Variable]), {
    name: "TypeError",
    message: "Cannot create lars: expected an array of tf.Variable",
  });
  const opt = lars([w], { momentum: 0, weightDecay: 0, eta: 0.1 });
  assert.equal(opt.name, "lars");
  assert.deepEqual(Object.keys(opt.getState().slots), ["momentum"]);
  opt.dispose();
  w.dispose();

  // defaults against explicit values, two steps (momentum shows at the second)
  const run = (options?: Parameters<typeof lars>[1]) => {
    const v = tf.variable(tf.tensor2d([[3, 4], [1, -2]]), true, "lars_defaults/dense/kernel");
    const o = lars([v], options);
    const g = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    o.apply([g], 1);
    o.apply([g], 1);
    const out = Array.from(v.dataSync());
    o.dispose();
    tf.dispose([v, g]);
    return out;
  };
  const explicit = run({ momentum: 0.9, weightDecay: 1e-6, eta: 0.001 });
  assert.deepEqual(run(), explicit);
  for (const other of [{ momentum: 0.8 }, { weightDecay: 1e-2 }, { eta: 0.002 }]) {
    assert.notDeepEqual(run(other), explicit, JSON.stringify(other));
  }
});

Deno.test("lars: the trust ratio is 1 when ||w|| or ||g + wd w|| is zero; wd 0 leaves the gradient alone", () => {
  // w = 0: the step is lr * g (no adaptation), not 0
  const w = tf.variable(tf.zeros([1, 2]), true, "zero/dense/kernel");
  const opt = lars([w], { momentum: 0, weightDecay: 0.1, eta: 0.001 });
  const g = tf.tensor2d([[1, -2]]);
  opt.apply([g], 0.5);
  assertTensorClose(w, [[-0.5, 1]], TOL);
  opt.dispose();
  // g + wd w = 0: no step and no NaN
  const w2 = tf.variable(tf.tensor2d([[1, 2]]), true, "zero2/dense/kernel");
  const opt2 = lars([w2], { momentum: 0, weightDecay: 0.5, eta: 0.001 });
  const g2 = tf.tensor2d([[-0.5, -1]]);
  opt2.apply([g2], 1);
  assertTensorClose(w2, [[1, 2]], { rtol: 0, atol: 0 });
  opt2.dispose();
  // weightDecay 0: ratio eta ||w|| / ||g|| exactly, heavy ball over two steps
  const w3 = tf.variable(tf.tensor2d([[3, 4]]), true, "wd0/dense/kernel");
  const opt3 = lars([w3], { momentum: 0.5, weightDecay: 0, eta: 0.1 });
  const g3 = tf.tensor2d([[0, 10]]);
  opt3.apply([g3], 1); // ratio 0.1 * 5 / 10 = 0.05: v = [0, 0.5], w = [3, 3.5]
  assertTensorClose(w3, [[3, 3.5]], TOL);
  opt3.apply([g3], 1); // ratio 0.1 * sqrt(9 + 12.25) / 10: v = 0.5 v + ratio g
  const r = 0.1 * Math.sqrt(9 + 12.25) / 10;
  assertTensorClose(w3, [[3, 3.5 - (0.25 + r * 10)]], TOL);
  opt3.dispose();
  tf.dispose([w, g, w2, g2, w3, g3]);
});

Deno.test("lars clip: the local rate is min(eta ||w|| / ||g||, lr), lr itself when a norm is zero", () => {
  // ||w|| = 5, ||g|| = 10, eta 0.1: eta ||w|| / ||g|| = 0.05
  const step = (lr: number, clip: boolean) => {
    const w = tf.variable(tf.tensor2d([[3, 4]]), true, "clip/dense/kernel");
    const opt = lars([w], { momentum: 0, weightDecay: 0, eta: 0.1, clip });
    const g = tf.tensor2d([[0, 10]]);
    opt.apply([g], lr);
    const out = Array.from(w.dataSync());
    opt.dispose();
    tf.dispose([w, g]);
    return out[1];
  };
  // below the trust bound the clipped rate is lr (4 - 0.02 * 10); unclipped 0.05 * 0.02
  assert.ok(Math.abs(step(0.02, true) - 3.8) < 1e-5, `clipped at lr 0.02: ${step(0.02, true)}`);
  assert.ok(Math.abs(step(0.02, false) - 3.99) < 1e-5);
  // above it the rate is the bound 0.05 (4 - 0.5), not 0.05 * 2
  assert.ok(Math.abs(step(2, true) - 3.5) < 1e-5, `clipped at lr 2: ${step(2, true)}`);
  assert.ok(Math.abs(step(2, false) - 3) < 1e-5);
  // w = 0: the step is lr * g, as without clipping
  const w = tf.variable(tf.zeros([1, 2]), true, "clipzero/dense/kernel");
  const opt = lars([w], { momentum: 0, weightDecay: 0.1, eta: 0.001, clip: true });
  const g = tf.tensor2d([[1, -2]]);
  opt.apply([g], 1.5);
  assertTensorClose(w, [[-1.5, 3]], TOL);
  opt.dispose();
  tf.dispose([w, g]);
  assert.throws(
    () => lars([], { clip: "yes" as unknown as boolean }),
    type("Cannot create lars: clip must be a boolean, received yes"),
  );
});

Deno.test("optimizer base: a null gradient skips its variable, lr 0 is allowed, iterations count every apply", () => {
  for (const make of [adamw, lars, sgd]) {
    const a = tf.variable(tf.tensor2d([[1, 2]]), true, "base/a/kernel");
    const b = tf.variable(tf.tensor2d([[3, 4]]), true, "base/b/kernel");
    const opt = make([a, b]);
    const g = tf.tensor2d([[1, 1]]);
    opt.apply([null, g], 0.1);
    assert.deepEqual(Array.from(a.dataSync()), [1, 2], `${opt.name}: a untouched`);
    assert.notDeepEqual(Array.from(b.dataSync()), [3, 4], `${opt.name}: b moved`);
    const before = Array.from(b.dataSync());
    opt.apply([g, g], [0, 0]);
    if (opt.name === "adamw") {
      // adamw at lr 0: no decay, no step
      assert.deepEqual(Array.from(b.dataSync()), before, `${opt.name} at lr 0`);
    }
    assert.deepEqual(Array.from(a.dataSync()), [1, 2], `${opt.name}: lr 0 moves nothing new`);
    assert.equal(opt.iterations, 2);
    for (const lr of [-0.1, Infinity, NaN]) {
      assert.throws(
        () => opt.apply([g, g], lr),
        range(`Cannot apply ${opt.name}: lr must be finite and >= 0, received ${lr}`),
      );
    }
    assert.throws(
      () => opt.apply([g], 0.1),
      type(`Cannot apply ${opt.name}: expected 2 gradients, received 1`),
    );
    assert.throws(
      () => opt.apply([g, g], [0.1, 0.1, 0.1]),
      type(`Cannot apply ${opt.name}: expected 2 learning rates, received 3`),
    );
    assert.equal(opt.iterations, 2, "a refused apply counts no iteration");
    opt.dispose();
    tf.dispose([a, b, g]);
  }
});

Deno.test("optimizer state: copies under the optimizer's name and slot names; every bad restore refused with a message", () => {
  const w = tf.variable(tf.tensor2d([[1, 2]]));
  const opt = adamw([w]);
  const g = tf.tensor2d([[0.5, -1]]);
  opt.apply([g], 0.1);
  const state = opt.getState();
  assert.equal(state.name, "adamw");
  assert.equal(state.iterations, 1);
  const m1 = Array.from(state.slots.m[0].dataSync());
  opt.apply([g], 0.1);
  assert.deepEqual(Array.from(state.slots.m[0].dataSync()), m1, "the saved copy does not move");

  assert.throws(
    () => opt.setState({ ...state, name: "lars" }),
    type("Cannot restore adamw state: it was written by lars"),
  );
  assert.throws(
    () => opt.setState({ ...state, slots: { v: state.slots.v } }),
    type('Cannot restore adamw slot "m": expected 1 tensors, received 0'),
  );
  assert.throws(
    () =>
      opt.setState({
        ...state,
        slots: { m: [...state.slots.m, ...state.slots.m], v: state.slots.v },
      }),
    type('Cannot restore adamw slot "m": expected 1 tensors, received 2'),
  );
  const wrong = tf.zeros([2, 1]);
  assert.throws(
    () => opt.setState({ ...state, slots: { m: state.slots.m, v: [wrong] } }),
    type('Cannot restore adamw slot "v" 0: expected shape [1,2], received [2,1]'),
  );
  // a refused restore changes nothing: the moments are still the ones after two steps
  assert.equal(opt.iterations, 2);
  assert.notDeepEqual(Array.from(opt.getState().slots.m[0].dataSync()), m1);
  // a good restore takes the values and the count
  opt.setState(state);
  assert.equal(opt.iterations, 1);
  assert.deepEqual(Array.from(opt.getState().slots.m[0].dataSync()), m1);
  opt.dispose();
  tf.dispose([w, g, wrong, ...state.slots.m, ...state.slots.v]);
});

Deno.test("excludedFromWeightDecay: biases, gammas, betas (numbered too) and norm layers by name, every rank <= 1; not other names", () => {
  const cases: [number[], string, boolean][] = [
    [[2, 2], "a/dense/bias", true],
    [[2, 2], "bias", true],
    [[2, 2], "a/dense/bias_12", true],
    [[2, 2], "a/bn/gamma", true],
    [[2, 2], "a/bn/beta", true],
    [[2, 2], "a/batchnorm/moving", true],
    [[2, 2], "a/layer_norm/scale", true],
    [[2, 2], "a/LayerNorm/scale", true],
    [[2, 2], "a/dense/kernel", false],
    [[2, 2], "a/dense/mybias", false],
    [[2, 2], "a/bias/kernel", false],
    [[2, 2], "a/dense/bias_x", false],
    [[4], "a/dense/kernel", true],
    [[], "a/scalar/kernel", true],
  ];
  for (const [shape, name, want] of cases) {
    // only rank and name are read; a plain object avoids tfjs' unique-name rule
    const probe = { rank: shape.length, name } as unknown as tf.Variable;
    assert.equal(excludedFromWeightDecay(probe), want, `${name} rank ${shape.length}`);
  }
});

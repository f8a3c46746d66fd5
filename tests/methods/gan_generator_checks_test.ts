/**
 * Issue 17: `dcganPaperGenerator`'s option checks (methods/_gan_generator.ts), which no test
 * reached: each refusal names the option, and the defaults build the paper's layout.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { dcganPaperGenerator } from "../../methods/_gan_generator.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

function refusal(zDim: number, options: Record<string, unknown>): Error {
  try {
    dcganPaperGenerator(zDim, { outputShape: [8, 8, 1], ...options } as never);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`no error: ${JSON.stringify(options)}`);
}

Deno.test("dcganPaperGenerator refuses each bad option by name", () => {
  const cases: [number, Record<string, unknown>, ErrorConstructor, string][] = [
    [
      4,
      { projectionNorm: "batch" },
      TypeError,
      'Cannot build a generator: expected projectionNorm "channel" or "unit", received batch',
    ],
    [
      0,
      {},
      RangeError,
      "Cannot build a generator (zDim): widths must be positive integers, received [0]",
    ],
    [
      4,
      { kernelSize: 0 },
      RangeError,
      "Cannot build a generator (kernelSize): widths must be positive integers, received [0]",
    ],
    [
      4,
      { widths: [4, 0] },
      RangeError,
      "Cannot build a generator: widths must be positive integers, received [4,0]",
    ],
    [
      4,
      { hidden: -2 },
      RangeError,
      "Cannot build a generator (hidden): widths must be positive integers, received [-2]",
    ],
    [
      4,
      { widths: [] },
      TypeError,
      "Cannot build a generator: expected at least one width, received []",
    ],
    [
      4,
      { widths: [4, 4], outputShape: [6, 8, 1] },
      RangeError,
      "Cannot build a generator: expected output height and width divisible by 4, received 6x8",
    ],
    [
      4,
      { widths: [4, 4], outputShape: [8, 6, 1] },
      RangeError,
      "Cannot build a generator: expected output height and width divisible by 4, received 8x6",
    ],
  ];
  for (const [zDim, options, kind, text] of cases) {
    const e = refusal(zDim, options);
    assert.ok(e instanceof kind, `${JSON.stringify(options)}: ${e}`);
    assert.equal(e.message, text);
  }
  const shape = refusal(4, { outputShape: [8, 8] });
  assert.match(shape.message, /^Cannot build a generator: /);
});

Deno.test("dcganPaperGenerator's defaults: widths [128, 64], the name generator, hidden 0 built", () => {
  const g = dcganPaperGenerator(4, { outputShape: [8, 8, 1] });
  assert.equal(g.name, "generator");
  assert.deepEqual(g.outputs[0].shape, [null, 8, 8, 1]);
  const kernels = g.layers.filter((l) => l.getClassName() === "Conv2DTranspose");
  assert.deepEqual(kernels.map((l) => (l.getConfig() as { filters: number }).filters), [64, 1]);
  // the inner layers feed BatchNorm and ReLU: no bias, no tanh; only the last has both
  assert.deepEqual(
    kernels.map((l) => {
      const c = l.getConfig() as { activation: string; useBias: boolean };
      return [c.activation, c.useBias];
    }),
    [["linear", false], ["tanh", true]],
  );
  const first = g.layers.find((l) => l.getClassName() === "Dense")!;
  assert.equal((first.getConfig() as { units: number }).units, 2 * 2 * 128);
  const h = dcganPaperGenerator(4, { outputShape: [8, 8, 1], widths: [4], hidden: 6, name: "g2" });
  assert.equal(h.name, "g2");
  assert.deepEqual(
    h.layers.filter((l) => l.getClassName() === "Dense").map((l) =>
      (l.getConfig() as { units: number }).units
    ),
    [6, 4 * 4 * 4],
  );
  tf.dispose([...g.weights, ...h.weights].map((w) => w.read()));
});

/**
 * The views each two-view method builds when the user gives no augmentation, against the
 * compositions the method docs name (issue 17: a wrong preset passed every other test, which
 * all give their own augmentation or views). Sequence encoders get the text preset.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { paperAugment, simclrAugment, textAugment, twoViews } from "../../augment/mod.ts";
import { byol, simclr, simsiam } from "../../methods/mod.ts";
import { pcg32 } from "../../data/prng.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { seededImages, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();

const EXACT = { rtol: 0, atol: 0 };
const RGB: [number, number, number] = [12, 12, 3];
const SEQ: [number, number, number] = [4, 10, 1];

const images = seededImages;

function same(got: tf.Tensor4D[], want: tf.Tensor4D[], where: string) {
  got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `${where} view ${i}:`));
  tf.dispose([...got, ...want]);
}

Deno.test("default views: simclr's preset, simsiam MoCo v2's pair, byol its asymmetric pair; the text preset for sequences", () => {
  const x = images([2, ...RGB], 1);
  const base = { encoder: toyEncoder(RGB, 8, 71), inputShape: RGB, seed: 1, projectionDim: 4 };
  same(simclr(base).method.views(x, 5), twoViews(x, simclrAugment(), 5), "simclr");
  same(
    simsiam({ ...base, hiddenDim: 2 }).method.views(x, 5),
    twoViews(x, paperAugment("moco-v2"), 5),
    "simsiam",
  );
  const prng = pcg32(5);
  const s1 = Math.floor(prng() * 2 ** 31), s2 = Math.floor(prng() * 2 ** 31);
  same(
    byol({ ...base, hiddenDim: 4 }).method.views(x, 5),
    [paperAugment("byol-1")(x, s1), paperAugment("byol-2")(x, s2)],
    "byol",
  );
  const lines = images([2, ...SEQ], 2);
  const seq = { encoder: toySequenceEncoder(SEQ, 6), inputShape: SEQ, seed: 1, projectionDim: 4 };
  for (const [name, setup] of [["simclr", simclr(seq)], ["byol", byol(seq)]] as const) {
    same(setup.method.views(lines, 7), twoViews(lines, textAugment(), 7), `${name} sequence`);
  }
  tf.dispose([x, lines]);
});

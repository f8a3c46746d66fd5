import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { channelShuffle } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("channelShuffle keeps the contract", async () => {
  const x = images([8, 4, 4, 3]);
  await checkContract(channelShuffle(), x);
  x.dispose();
});

Deno.test("channelShuffle applies one non-identity channel permutation per sample", () => {
  const [b, h, w, c] = [24, 3, 3, 3];
  const x = images([b, h, w, c], 2);
  const y = channelShuffle()(x, 5);
  const xv = values(x), yv = values(y);
  const seen = new Set<string>();
  for (let s = 0; s < b; s++) {
    // the permutation from the first pixel, then checked on every pixel
    const base = s * h * w * c;
    const perm = [0, 1, 2].map((k) => [0, 1, 2].find((j) => yv[base + k] === xv[base + j])!);
    assert.deepEqual([...perm].sort(), [0, 1, 2]);
    assert.notDeepEqual(perm, [0, 1, 2], "never the identity");
    seen.add(perm.join());
    for (let p = 0; p < h * w; p++) {
      const o = base + p * c;
      for (let k = 0; k < c; k++) assert.equal(yv[o + k], xv[o + perm[k]]);
      assert.deepEqual(yv.slice(o, o + c).sort(), xv.slice(o, o + c).sort(), "sorted values equal");
    }
  }
  assert.equal(seen.size, 5, `all 5 non-identity permutations appear, saw ${[...seen]}`);
  tf.dispose([x, y]);
});

Deno.test("channelShuffle leaves 1-channel images unchanged", () => {
  const x = images([2, 3, 3, 1], 3);
  const y = channelShuffle()(x, 1);
  assertTensorClose(y, x, { rtol: 0, atol: 0 });
  tf.dispose([x, y]);
});

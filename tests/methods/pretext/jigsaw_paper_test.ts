import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { hammingPermutations } from "../../../methods/pretext/hamming_permutations.ts";
import { gridTiles } from "../../../methods/pretext/tiles.ts";
import { jigsaw } from "../../../methods/jigsaw.ts";
import { assertTensorClose, setupBackend } from "../../_utils.ts";

await setupBackend();

/** Every permutation of 0..n-1, lexicographically (independent of the library's order). */
function lexPermutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return lexPermutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])
  );
}

const hamming = (a: number[], b: number[]) => a.reduce((d, v, i) => d + (v !== b[i] ? 1 : 0), 0);

/**
 * Brute force: at every step k >= 1, the chosen permutation's score against the k chosen before
 * it is the best over every permutation not yet chosen (whatever the tie-break).
 */
function checkGreedy(
  perms: number[][],
  tiles: number,
  score: (p: number[], before: number[][]) => number,
  better: "max" | "min",
) {
  const all = lexPermutations(tiles);
  for (let k = 1; k < perms.length; k++) {
    const before = perms.slice(0, k);
    const key = (p: number[]) => p.join(",");
    const used = new Set(before.map(key));
    const scores = all.filter((p) => !used.has(key(p))).map((p) => score(p, before));
    const best = better === "max" ? Math.max(...scores) : Math.min(...scores);
    assert.equal(score(perms[k], before), best, `step ${k}: ${perms[k]}`);
  }
}

const sumDistance = (p: number[], before: number[][]) =>
  before.reduce((s, q) => s + hamming(p, q), 0);
const minDistance = (p: number[], before: number[][]) =>
  Math.min(...before.map((q) => hamming(p, q)));

Deno.test("hammingPermutations: each selection rule is the brute-force greedy step on small cases", () => {
  for (const [tiles, count] of [[4, 12], [5, 20], [3, 6]]) {
    for (const seed of [0, 1, 2]) {
      const max = hammingPermutations(count, { tiles, seed });
      checkGreedy(max.permutations, tiles, sumDistance, "max");
      const explicit = hammingPermutations(count, { tiles, seed, selection: "maximal" });
      assert.deepEqual(explicit, max);
      const min = hammingPermutations(count, { tiles, seed, selection: "minimal" });
      checkGreedy(min.permutations, tiles, sumDistance, "min");
      const maxmin = hammingPermutations(count, { tiles, seed, selection: "maxmin" });
      checkGreedy(maxmin.permutations, tiles, minDistance, "max");
      for (const set of [max, min, maxmin]) {
        const keys = new Set(set.permutations.map((p) => p.join(",")));
        assert.equal(keys.size, count);
        const identity = Array.from({ length: tiles }, (_, t) => t).join();
        assert.ok(set.permutations.every((p) => [...p].sort((u, v) => u - v).join() === identity));
      }
    }
  }
});

Deno.test("hammingPermutations: reported distances exact; average draws distinct at random; the rules order as in the paper", () => {
  const rules = ["maximal", "average", "minimal", "maxmin"] as const;
  const sets = Object.fromEntries(
    rules.map((r) => [r, hammingPermutations(30, { tiles: 6, selection: r, seed: 5 })]),
  );
  for (const r of rules) {
    const p = sets[r].permutations;
    let min = 6, sum = 0, n = 0;
    for (let i = 0; i < p.length; i++) {
      for (let j = 0; j < i; j++) {
        const d = hamming(p[i], p[j]);
        min = Math.min(min, d);
        sum += d;
        n++;
      }
    }
    assert.equal(sets[r].minDistance, min, r);
    assert.ok(Math.abs(sets[r].meanDistance - sum / n) < 1e-12, r);
    assert.equal(new Set(p.map((q) => q.join())).size, 30, r);
  }
  // maximal > average (random) > minimal in mean distance (Noroozi & Favaro, Table 3)
  assert.ok(sets.maximal.meanDistance > sets.average.meanDistance);
  assert.ok(sets.average.meanDistance > sets.minimal.meanDistance);
  // the average set is not a greedy set: seeds give different draws, a seed the same one
  const again = hammingPermutations(30, { tiles: 6, selection: "average", seed: 5 });
  assert.deepEqual(again, sets.average);
  assert.notDeepEqual(
    hammingPermutations(30, { tiles: 6, selection: "average", seed: 6 }).permutations,
    again.permutations,
  );
  assert.throws(
    () => hammingPermutations(3, { tiles: 4, selection: "best" as "maximal" }),
    RangeError,
  );
});

Deno.test("jigsaw views: tiles normalized to zero mean and unit std each, then permuted; option off keeps raw tiles", () => {
  const opts = {
    encoder: "convnet" as const,
    inputShape: [12, 12, 2] as [number, number, number],
    seed: 1,
    widths: [2],
    permutations: 6,
    tileUnits: 2,
    hiddenDim: 4,
  };
  const x = tf.randomUniform([3, 12, 12, 2], 0, 1, "float32", 2) as tf.Tensor4D;
  const setup = jigsaw(opts);
  const raw = jigsaw({ ...opts, normalizeTiles: false });
  const [shuffled, labelView] = setup.method.views(x, 7);
  const [rawShuffled] = raw.method.views(x, 7);
  const t = gridTiles(x, 7).arraySync() as number[][][][];
  const labels = Array.from(labelView.dataSync());
  const s = shuffled.arraySync() as number[][][][];
  const rs = rawShuffled.arraySync() as number[][][][];
  for (let b = 0; b < 3; b++) {
    const perm = setup.method.permutations[labels[b]];
    for (let p = 0; p < 9; p++) {
      // float64 reference: the source tile standardized over its pixels and channels
      const src = t[9 * b + perm[p]].flat(2);
      const mean = src.reduce((u, v) => u + v, 0) / src.length;
      const v = src.reduce((u, w) => u + (w - mean) ** 2, 0) / src.length;
      assertTensorClose(s[9 * b + p].flat(2), src.map((w) => (w - mean) / Math.sqrt(v + 1e-5)), {
        atol: 1e-4,
        rtol: 1e-4,
      });
      assert.deepEqual(rs[9 * b + p], t[9 * b + perm[p]]);
    }
  }
  assert.equal(setup.method.meanDistance > 0, true);
  tf.dispose([x, shuffled, labelView, rawShuffled]);
});

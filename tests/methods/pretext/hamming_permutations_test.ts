/**
 * Issue 17: `hammingPermutations` (methods/pretext/hamming_permutations.ts), its mirror test,
 * with no tensors (a mutant costs one short `deno test`): the whole set against an independent
 * reference of the documented rule (recursive Heap's order, the first pick `floor(u * n!)` of
 * `pcg32(seed)`, each rule's greedy step with ties to the first in Heap's order, `average`'s
 * uniform draw among those not taken), the reported distances, the cache handing out copies,
 * and each refusal's exact message. The brute-force greedy checks and the paper's ordering of
 * the rules are in `jigsaw_paper_test.ts`.
 */
import assert from "node:assert/strict";
import {
  hammingPermutations,
  type HammingPermutationsOptions,
} from "../../../methods/pretext/hamming_permutations.ts";
import { pcg32 } from "../../../data/prng.ts";

/** Heap's algorithm, recursive (the order the iterative version in the library produces). */
function heap(n: number): number[][] {
  const a = Array.from({ length: n }, (_, i) => i);
  const out: number[][] = [];
  const generate = (k: number) => {
    if (k === 1) {
      out.push(a.slice());
      return;
    }
    generate(k - 1);
    for (let i = 0; i < k - 1; i++) {
      if (k % 2 === 0) [a[i], a[k - 1]] = [a[k - 1], a[i]];
      else [a[0], a[k - 1]] = [a[k - 1], a[0]];
      generate(k - 1);
    }
  };
  generate(n);
  return out;
}

const hamming = (a: number[], b: number[]) => a.reduce((d, v, i) => d + (v !== b[i] ? 1 : 0), 0);

function reference(
  count: number,
  tiles: number,
  seed: number,
  selection: string,
): { permutations: number[][]; minDistance: number; meanDistance: number } {
  const all = heap(tiles);
  const random = pcg32(seed);
  const chosen = [Math.floor(random() * all.length)];
  // each permutation's sum and minimum of distances to those chosen, as plain numbers
  const sum = all.map(() => 0);
  const min = all.map(() => Infinity);
  while (chosen.length < count) {
    const last = all[chosen[chosen.length - 1]];
    all.forEach((p, j) => {
      sum[j] += hamming(p, last);
      min[j] = Math.min(min[j], hamming(p, last));
    });
    const free = all.map((_, j) => j).filter((j) => !chosen.includes(j));
    if (selection === "average") {
      chosen.push(free[Math.floor(random() * free.length)]);
      continue;
    }
    const score = selection === "maxmin" ? min : sum;
    let best = free[0];
    for (const j of free) {
      const better = selection === "minimal" ? score[j] < score[best] : score[j] > score[best];
      if (better) best = j;
    }
    chosen.push(best);
  }
  const permutations = chosen.map((i) => all[i]);
  const d: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < i; j++) d.push(hamming(permutations[i], permutations[j]));
  }
  return {
    permutations,
    minDistance: d.length ? Math.min(...d) : 0,
    meanDistance: d.length ? d.reduce((s, v) => s + v, 0) / d.length : 0,
  };
}

Deno.test("hammingPermutations equals the reference for every rule, size and seed", () => {
  assert.deepEqual(heap(3), [[0, 1, 2], [1, 0, 2], [2, 0, 1], [0, 2, 1], [1, 2, 0], [2, 1, 0]]);
  for (const selection of ["maximal", "minimal", "average", "maxmin"]) {
    // 6 tiles, 60 picks: sums of distances pass 255 (a byte would wrap)
    for (const [tiles, count] of [[2, 2], [3, 6], [4, 9], [5, 17], [6, 12], [6, 60]]) {
      for (const seed of [0, 3, 11]) {
        const got = hammingPermutations(count, { tiles, seed, selection } as never);
        const want = reference(count, tiles, seed, selection);
        assert.deepEqual(got.permutations, want.permutations, `${selection} ${tiles} ${seed}`);
        assert.equal(got.minDistance, want.minDistance, `${selection} ${tiles} ${seed}`);
        assert.ok(Math.abs(got.meanDistance - want.meanDistance) < 1e-12);
      }
    }
  }
});

Deno.test("hammingPermutations' defaults: 9 tiles, seed 0, the maximal rule; one permutation has distances 0", () => {
  const got = hammingPermutations(4);
  assert.deepEqual(got, hammingPermutations(4, { tiles: 9, seed: 0, selection: "maximal" }));
  assert.deepEqual(new Set(got.permutations.map((p) => p.length)), new Set([9]));
  const one = hammingPermutations(1, { tiles: 5, seed: 2 });
  assert.deepEqual(one, { ...reference(1, 5, 2, "maximal"), minDistance: 0, meanDistance: 0 });
  // every permutation of 3 tiles: the minimum distance of the whole set is 2
  const full = hammingPermutations(6, { tiles: 3, selection: "minimal" });
  assert.equal(full.minDistance, 2);
  assert.equal(new Set(full.permutations.map((p) => p.join())).size, 6);
});

Deno.test("hammingPermutations hands out copies: changing one result leaves the next call's alone", () => {
  const options: HammingPermutationsOptions = { tiles: 4, seed: 7 };
  const first = hammingPermutations(5, options);
  const kept = structuredClone(first);
  first.permutations[0][0] = 99;
  first.permutations.length = 1;
  assert.deepEqual(hammingPermutations(5, options), kept);
  const second = hammingPermutations(5, options);
  second.permutations[1].reverse();
  assert.deepEqual(hammingPermutations(5, options), kept);
  // a second key of the cache is its own set
  assert.notDeepEqual(
    hammingPermutations(5, { tiles: 4, seed: 8 }).permutations,
    kept.permutations,
  );
  assert.notDeepEqual(
    hammingPermutations(5, { ...options, selection: "minimal" }).permutations,
    kept.permutations,
  );
  assert.equal(hammingPermutations(4, options).permutations.length, 4);
});

Deno.test("hammingPermutations refuses tiles, selection and count outside their ranges, by name", () => {
  const cases: [number, HammingPermutationsOptions, string][] = [
    [3, { tiles: 1 }, "tiles must be an integer in [2, 10], received 1"],
    [3, { tiles: 11 }, "tiles must be an integer in [2, 10], received 11"],
    [3, { tiles: 3.5 }, "tiles must be an integer in [2, 10], received 3.5"],
    [
      3,
      { tiles: 4, selection: "best" as "maximal" },
      "selection must be maximal, minimal, average or maxmin, received best",
    ],
    [0, { tiles: 4 }, "count must be an integer in [1, 24], received 0"],
    [25, { tiles: 4 }, "count must be an integer in [1, 24], received 25"],
    [2.5, { tiles: 4 }, "count must be an integer in [1, 24], received 2.5"],
    [7, { tiles: 3 }, "count must be an integer in [1, 6], received 7"],
  ];
  for (const [count, options, text] of cases) {
    assert.throws(() => hammingPermutations(count, options), {
      name: "RangeError",
      message: `Cannot choose permutations: ${text}`,
    });
  }
  // the ends of each range are accepted
  assert.equal(hammingPermutations(2, { tiles: 2 }).permutations.length, 2);
  assert.equal(hammingPermutations(24, { tiles: 4 }).permutations.length, 24);
  assert.deepEqual(hammingPermutations(1, { tiles: 10, seed: 1 }).permutations[0].length, 10);
});

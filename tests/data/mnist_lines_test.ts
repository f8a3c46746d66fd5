import assert from "node:assert/strict";
import { mnistLines } from "../../data/mnist_lines.ts";
import { mnist } from "../../data/mnist.ts";

Deno.test("mnist lines: transcripts are the labels of the digits drawn, deterministic per (seed, index)", async () => {
  const train = await mnist("train");
  const a = await mnistLines({ seed: 2 });
  const b = await mnistLines({ seed: 2 });
  assert.deepEqual(a.shape, [32, 128, 1]);
  const lengths = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const x = a.get(i);
    assert.match(x.text, /^[0-9]{3,10}$/);
    assert.equal(x.text, x.sources.map((j) => train.labels[j]).join(""));
    lengths.add(x.text.length);
    assert.deepEqual(b.get(i).image, x.image);
    assert.ok(x.image.some((v) => v > 200), "ink is visible");
  }
  assert.ok(lengths.size >= 5, `lengths vary: ${[...lengths]}`);
  assert.notDeepEqual(a.get(0).image, a.get(1).image);
  assert.notDeepEqual((await mnistLines({ seed: 3 })).get(0).sources, a.get(0).sources);
  assert.throws(() => a.get(60000), RangeError);
});

Deno.test("mnist lines: the image contains each digit's pixels exactly (no resize case)", async () => {
  const test = await mnist("test");
  const ds = await mnistLines({
    split: "test",
    seed: 7,
    width: 400,
    minDigits: 4,
    maxDigits: 4,
    gap: [1, 3],
    jitter: 2,
  });
  for (let i = 0; i < 5; i++) {
    const { image, sources } = ds.get(i);
    let fromX = 0;
    for (const j of sources) {
      const digit = test.images.subarray(j * 784, (j + 1) * 784);
      const cols = [...Array(28).keys()].filter((x) =>
        [...Array(28).keys()].some((y) => digit[y * 28 + x] > 0)
      );
      const lo = cols[0], hi = cols[cols.length - 1];
      // Search the leftmost placement (digits go left to right, gaps >= 1 so nothing overlaps).
      let found = -1;
      search: for (let ox = fromX; ox + (hi - lo) < 400; ox++) {
        for (let oy = 0; oy + 28 <= 32; oy++) {
          let ok = true;
          for (let y = 0; y < 28 && ok; y++) {
            for (let x = lo; x <= hi; x++) {
              if (image[(oy + y) * 400 + ox + x - lo] !== digit[y * 28 + x]) {
                ok = false;
                break;
              }
            }
          }
          if (ok) {
            found = ox;
            break search;
          }
        }
      }
      assert.ok(found >= 0, `line ${i}: digit ${j} not found after x=${fromX}`);
      fromX = found + (hi - lo) + 2;
    }
  }
  assert.equal(test.length, 10000);
  await assert.rejects(() => mnistLines({ minDigits: 0 }), RangeError);
});

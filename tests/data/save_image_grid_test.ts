import assert from "node:assert/strict";
import sharp from "sharp";
import { saveImageGrid } from "../../data/save_image_grid.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "selfsup_grid_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("saveImageGrid: pixels land at their grid cell, floats are scaled, bad shapes throw", async () => {
  await withDir(async (dir) => {
    // 3 RGB images of 2x3: image k filled with (k*50, 255 - k*50, 7).
    const imgs = new Uint8Array(3 * 2 * 3 * 3);
    for (let k = 0; k < 3; k++) {
      for (let p = 0; p < 6; p++) imgs.set([k * 50, 255 - k * 50, 7], (k * 6 + p) * 3);
    }
    await saveImageGrid(imgs, [3, 2, 3, 3], `${dir}/g.png`, {
      columns: 2,
      padding: 1,
      scale: 2,
      background: 9,
    });
    const { data, info } = await sharp(`${dir}/g.png`).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [2 * 6 + 3, 2 * 4 + 3, 3]);
    const px = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    assert.deepEqual(px(0, 0), [9, 9, 9]);
    assert.deepEqual(px(1, 1), [0, 255, 7]); // image 0, top-left
    assert.deepEqual(px(8 + 5, 1 + 3), [50, 205, 7]); // image 1, bottom-right
    assert.deepEqual(px(1, 6), [100, 155, 7]); // image 2, second row
    assert.deepEqual(px(9, 7), [9, 9, 9]); // empty cell
    const floats = Float32Array.of(0, 0.5, 1, 2);
    await saveImageGrid(floats, [1, 2, 2, 1], `${dir}/f.png`, { padding: 0 });
    const f = await sharp(`${dir}/f.png`).extractChannel(0).raw().toBuffer();
    assert.deepEqual(Array.from(f), [0, 128, 255, 255]);
    await assert.rejects(
      () => saveImageGrid(new Uint8Array(5), [1, 2, 2, 1], `${dir}/x.png`),
      TypeError,
    );
  });
});

/**
 * Data benchmarks: sharp decode+resize, synthetic line rendering, MNIST batch assembly and loader
 * throughput. Run: `deno bench -A bench/data_bench.ts`. Images/s = images per iteration / time.
 *
 * @module
 */
import sharp from "sharp";
import { setupBackend } from "../tests/_utils.ts";
import {
  type Batch,
  batchToTensor,
  imageFolder,
  Loader,
  mnist,
  mnistLines,
  syntheticTextLines,
} from "../data/mod.ts";

await setupBackend("cpu");

// --- fixtures (outside every measured region) ---
const noise = (seed: number) =>
  sharp({
    create: {
      width: 96,
      height: 96,
      channels: 3,
      background: "#000000",
      noise: { type: "gaussian", mean: 128 + seed, sigma: 50 },
    },
  });
const png = await noise(0).png().toBuffer();
const jpeg = await noise(0).jpeg({ quality: 90 }).toBuffer();
const decode = (buf: Uint8Array) =>
  sharp(buf).resize(32, 32, { fit: "fill" }).removeAlpha().raw().toBuffer();

const dir = await Deno.makeTempDir({ prefix: "selfsup_bench_" });
for (let i = 0; i < 128; i++) {
  await Deno.mkdir(`${dir}/c${i % 4}`, { recursive: true });
  await noise(i % 50).png().toFile(`${dir}/c${i % 4}/${i}.png`);
}
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const train = await mnist("train");
const lines = syntheticTextLines({ seed: 0 });
const digitLines = await mnistLines({ seed: 0 });
await lines.get(0); // font cache

let next = 0;
const step = () => (next = (next + 7919) % 800000);

// --- sharp decode + resize, 96x96 -> 32x32 RGB ---
Deno.bench("png 96->32, 1 image", { group: "decode", baseline: true, n: 300 }, async (b) => {
  b.start();
  await decode(png);
  b.end();
});
Deno.bench("jpeg 96->32, 1 image", { group: "decode", n: 300 }, async (b) => {
  b.start();
  await decode(jpeg);
  b.end();
});
Deno.bench("png 96->32, 32 images, 8 in flight", { group: "decode", n: 30 }, async (b) => {
  b.start();
  for (let k = 0; k < 4; k++) await Promise.all(Array.from({ length: 8 }, () => decode(png)));
  b.end();
});

// --- synthetic text lines, 32x128 gray ---
Deno.bench("synthetic line, 1", { group: "lines", baseline: true, n: 100 }, async (b) => {
  const i = step();
  b.start();
  await lines.get(i);
  b.end();
});
Deno.bench("synthetic lines, 16, 8 in flight", { group: "lines", n: 10 }, async (b) => {
  const i = step();
  b.start();
  for (let k = 0; k < 2; k++) {
    await Promise.all(Array.from({ length: 8 }, (_, j) => lines.get(i + 8 * k + j)));
  }
  b.end();
});
Deno.bench("mnist line, 1", { group: "lines", n: 300 }, (b) => {
  const i = step() % digitLines.length;
  b.start();
  digitLines.get(i);
  b.end();
});

// --- MNIST batches of 256 ---
const it256 = new Loader(train, { batchSize: 256, epochs: Infinity, prefetch: 0 })
  [Symbol.asyncIterator]();
Deno.bench("copy 256 images (memcpy floor)", { group: "mnist256", baseline: true }, (b) => {
  const out = new Uint8Array(256 * 784);
  const base = Math.floor(Math.random() * 50000);
  b.start();
  for (let k = 0; k < 256; k++) {
    out.set(train.images.subarray((base + k) * 784, (base + k + 1) * 784), k * 784);
  }
  b.end();
});
Deno.bench("Loader batch 256 (shuffled, prefetch 0)", { group: "mnist256" }, async (b) => {
  b.start();
  await it256.next();
  b.end();
});
let mb: Batch | undefined;
for await (const x of new Loader(train, { batchSize: 256 })) {
  mb = x;
  break;
}
Deno.bench("batchToTensor [256,28,28,1] + dataSync", { group: "mnist256" }, (b) => {
  b.start();
  const t = batchToTensor(mb!);
  t.dataSync();
  b.end();
  t.dispose();
});

// --- loader throughput, batch 64, the consumer does nothing ---
const itLines = new Loader(lines, { batchSize: 64, epochs: Infinity, concurrency: 8 })
  [Symbol.asyncIterator]();
const folder = await imageFolder(dir, { size: 32 });
const itFolder = new Loader(folder, { batchSize: 64, epochs: Infinity, concurrency: 8 })
  [Symbol.asyncIterator]();
const itDigits = new Loader(digitLines, { batchSize: 64, epochs: Infinity })
  [Symbol.asyncIterator]();
Deno.bench(
  "synthetic lines 32x128, batch 64",
  { group: "loader", baseline: true, n: 8 },
  async (b) => {
    b.start();
    await itLines.next();
    b.end();
  },
);
Deno.bench("image folder 96px PNG -> 32x32x3, batch 64", { group: "loader", n: 20 }, async (b) => {
  b.start();
  await itFolder.next();
  b.end();
});
Deno.bench("mnist lines 32x128, batch 64", { group: "loader", n: 20 }, async (b) => {
  b.start();
  await itDigits.next();
  b.end();
});

import assert from "node:assert/strict";
import sharp from "sharp";
import { imageFolder } from "../../data/image_folder.ts";
import { DatasetError } from "../../data/dataset.ts";
import { Loader } from "../../data/loader.ts";

const quiet = { onWarning: () => {} };

function solid(color: string, size = 96) {
  return sharp({ create: { width: size, height: size, channels: 3, background: color } });
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "selfsup_imgfolder_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("image folder: class folders load the good files, bad ones are skipped and counted", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/cat`);
    await Deno.mkdir(`${dir}/dog`);
    await solid("#ff0000").png().toFile(`${dir}/cat/red.png`);
    await solid("#00ff00").jpeg({ quality: 95 }).toFile(`${dir}/cat/green.jpg`);
    await solid("#0000ff").webp({ lossless: true }).toFile(`${dir}/dog/blue.webp`);
    await solid("#ffffff").tiff().toFile(`${dir}/dog/white.tiff`);
    await solid("#000000").gif().toFile(`${dir}/dog/black.gif`);
    // The bad ones:
    await Deno.writeFile(`${dir}/cat/empty.png`, new Uint8Array(0)); // zero-byte
    await Deno.writeTextFile(`${dir}/dog/readme.txt`, "hello"); // unsupported type
    await Deno.writeTextFile(`${dir}/dog/fake.png`, "this is not a png at all"); // not an image
    const png = await solid("#123456").png().toBuffer();
    const corrupt = png.slice();
    corrupt.fill(0x5a, 8, 40); // valid signature, garbage header chunk
    await Deno.writeFile(`${dir}/cat/corrupt.png`, corrupt);
    const jpeg = await sharp({
      create: {
        width: 96,
        height: 96,
        channels: 3,
        background: "#000000",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    }).jpeg().toBuffer();
    await Deno.writeFile(`${dir}/dog/truncated.jpg`, jpeg.subarray(0, jpeg.length >> 1)); // truncated
    await Deno.writeFile(`${dir}/loose.png`, png); // not in a class folder

    const warnings: string[] = [];
    const ds = await imageFolder(dir, { size: [8, 12], onWarning: (m) => warnings.push(m) });
    assert.deepEqual(ds.classes, ["cat", "dog"]);
    assert.equal(ds.numClasses, 2);
    assert.deepEqual(ds.shape, [8, 12, 3]);
    // Header checks catch zero-byte, txt, fake, corrupt and loose; the truncated JPEG has a good
    // header and fails at decode time, where the loader skips it.
    assert.equal(ds.skipped, 5, warnings.join("\n"));
    assert.equal(warnings.length, 5);
    assert.equal(ds.length, 6);
    const loader = new Loader(ds, { batchSize: 5, shuffle: false, onSkip: () => {} });
    const batches = [];
    for await (const b of loader) batches.push(b);
    assert.equal(batches.length, 1);
    assert.equal(loader.skipped, 1);
    assert.equal(ds.skipped + loader.skipped, 6);
    const b = batches[0];
    const byName = new Map<string, [number[], number]>();
    for (let k = 0; k < 5; k++) {
      const name = ds.paths[b.indices[k]].split("/").pop()!;
      byName.set(name, [Array.from(b.images.subarray(k * 288, k * 288 + 3)), b.labels![k]]);
    }
    assert.deepEqual(byName.get("red.png"), [[255, 0, 0], 0]);
    assert.deepEqual(byName.get("blue.webp"), [[0, 0, 255], 1]);
    assert.deepEqual(byName.get("white.tiff"), [[255, 255, 255], 1]);
    assert.deepEqual(byName.get("black.gif"), [[0, 0, 0], 1]);
    const [g, gl] = byName.get("green.jpg")!;
    assert.ok(g[0] < 10 && g[1] > 245 && g[2] < 10 && gl === 0, `green ${g}`);
    // A full decode at scan time counts the truncated file too.
    const strict = await imageFolder(dir, { size: 8, verify: "decode", ...quiet });
    assert.equal(strict.skipped, 6);
    assert.equal(strict.length, 5);
  });
});

Deno.test("image folder: unlabeled, grayscale, and a manifest with labels or text", async () => {
  await withDir(async (dir) => {
    await solid("#808080", 40).png().toFile(`${dir}/a.png`);
    await solid("#ffffff", 20).png().toFile(`${dir}/b.png`);
    const flat = await imageFolder(dir, { size: 4, channels: 1, ...quiet });
    assert.equal(flat.length, 2);
    assert.equal(flat.numClasses, undefined);
    const s = await flat.get(0);
    assert.equal(s.label, undefined);
    assert.equal(s.image.length, 16);
    assert.ok(Math.abs(s.image[0] - 128) <= 1);
    await Deno.writeTextFile(
      `${dir}/labels.csv`,
      'path,label,text\na.png,zebra,"hello, world"\nb.png,ant,bye\nmissing.png,ant,x\n',
    );
    const csv = await imageFolder(dir, { manifest: "labels.csv", size: 4, ...quiet });
    assert.deepEqual(csv.classes, ["ant", "zebra"]);
    assert.equal(csv.skipped, 1); // the missing file
    assert.deepEqual([(await csv.get(0)).label, (await csv.get(0)).text], [1, "hello, world"]);
    assert.deepEqual([(await csv.get(1)).label, (await csv.get(1)).text], [0, "bye"]);
    await Deno.writeTextFile(
      `${dir}/m.jsonl`,
      '{"path":"a.png","label":3}\n{"path":"b.png","label":7}\nnot json\n{"path":"b.png"}\n',
    );
    const jl = await imageFolder(dir, { manifest: `${dir}/m.jsonl`, size: 4, ...quiet });
    assert.equal(jl.classes, undefined);
    assert.equal(jl.numClasses, 8);
    assert.equal(jl.skipped, 2); // bad JSON, and a row without a label among labeled rows
    assert.equal((await jl.get(1)).label, 7);
  });
});

Deno.test("image folder: nothing usable is a DatasetError", async () => {
  await withDir(async (dir) => {
    await assert.rejects(() => imageFolder(dir, quiet), DatasetError); // empty
    await Deno.writeFile(`${dir}/zero.png`, new Uint8Array(0));
    await Deno.writeTextFile(`${dir}/x.jpg`, "nope");
    await assert.rejects(
      () => imageFolder(dir, quiet),
      (e: Error) => e instanceof DatasetError && /2 skipped/.test(e.message),
    );
    await assert.rejects(() => imageFolder(`${dir}/nonexistent`, quiet), DatasetError);
    await assert.rejects(() => imageFolder(dir, { size: 0 }), RangeError);
  });
});

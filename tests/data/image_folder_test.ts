import assert from "node:assert/strict";
import sharp from "sharp";
import { imageFolder } from "../../data/image_folder.ts";
import { DatasetError } from "../../data/dataset.ts";
import { Loader } from "../../data/loader.ts";
import { badFolder } from "./_bad_folder.ts";

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
    // Header checks catch zero-byte, fake, corrupt and (by its missing end marker) the truncated
    // JPEG; readme.txt is no image and loose.png lies outside the class folders: both ignored.
    assert.equal(ds.skipped, 4, warnings.join("\n"));
    assert.equal(warnings.length, 4);
    assert.equal(ds.ignored, 2);
    assert.deepEqual(ds.skippedBy, { empty: 1, "not an image": 1, undecodable: 1, truncated: 1 });
    assert.equal(ds.length, 5);
    const loader = new Loader(ds, { batchSize: 5, shuffle: false, onSkip: () => {} });
    const batches = [];
    for await (const b of loader) batches.push(b);
    assert.equal(batches.length, 1);
    assert.equal(loader.skipped, 0);
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
    // Without the end-marker check (verify none) the truncated file reaches the loader, which
    // skips it; a full decode at scan time gives the same counts as the header check.
    const listed = await imageFolder(dir, { size: 8, verify: "none", ...quiet });
    assert.equal(listed.skipped, 1); // only the zero-byte file
    const strict = await imageFolder(dir, { size: 8, verify: "decode", ...quiet });
    assert.equal(strict.skipped, 4);
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

Deno.test("image folder: a truncated PNG with an intact header is skipped by the default check, README.md is ignored", async () => {
  await withDir(async (dir) => {
    await badFolder(dir);
    const warnings: string[] = [];
    const ds = await imageFolder(dir, { size: 8, onWarning: (m) => warnings.push(m) });
    assert.ok(
      warnings.some((w) => /bad_truncated\.png: skipped, truncated PNG/.test(w)),
      warnings.join("\n"),
    );
    assert.ok(!warnings.some((w) => /README|notes/.test(w)));
    assert.equal(ds.ignored, 2);
    // bad_data.png passes every check short of a decode
    assert.equal(ds.length, 13);
    assert.equal(ds.skipped, 5);
    const full = await imageFolder(dir, { size: 8, verify: "decode", ...quiet });
    assert.equal(full.length, 12);
    assert.equal(full.skipped, 6);
    await assert.rejects(
      () => ds.get(ds.paths.findIndex((p) => p.endsWith("bad_data.png"))),
      DatasetError,
    );
  });
});

Deno.test("image folder: manifest labels must be all integers >= 0 or all names, paths listed once", async () => {
  await withDir(async (dir) => {
    for (const n of ["a", "b", "c"]) await solid("#808080", 8).png().toFile(`${dir}/${n}.png`);
    const load = async (text: string, name = "m.csv") => {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      return imageFolder(dir, { manifest: name, size: 4, ...quiet });
    };
    const ints = await load("path,label\na.png,0\nb.png,2\nc.png,1\n");
    assert.deepEqual([(await ints.get(0)).label, (await ints.get(1)).label], [0, 2]);
    assert.equal(ints.classes, undefined);
    for (const bad of ["-1", "2.5"]) {
      await assert.rejects(
        () => load(`path,label\na.png,0\nb.png,${bad}\nc.png,1\n`),
        (e: Error) =>
          e instanceof DatasetError &&
          e.message.includes(`"${bad}" at ${dir}/m.csv:3`),
      );
    }
    await assert.rejects(
      () => load('{"path":"a.png","label":0}\n{"path":"b.png","label":-1}\n', "m.jsonl"),
      (e: Error) => e instanceof DatasetError && /-1 at .*m\.jsonl:2/.test(e.message),
    );
    await assert.rejects(
      () => load("path,label\na.png,0\nb.png,1\nc.png,cat\n"),
      (e: Error) =>
        e instanceof DatasetError && /all integers >= 0 or all class names/.test(e.message) &&
        e.message.includes('"cat" at'),
    );
    await assert.rejects(
      () => load("path,label\na.png,0\nb.png,1\na.png,1\n"),
      (e: Error) => e instanceof DatasetError && /listed once.*a\.png/.test(e.message),
    );
    const names = await load("path,label\na.png,zebra\nb.png,ant\n");
    assert.deepEqual(names.classes, ["ant", "zebra"]);
  });
});

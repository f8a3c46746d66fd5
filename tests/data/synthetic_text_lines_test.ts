import assert from "node:assert/strict";
import { syntheticTextLines } from "../../data/synthetic_text_lines.ts";
import { CHARSETS } from "../../data/charsets.ts";
import { DatasetError } from "../../data/dataset.ts";

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

Deno.test("synthetic lines: deterministic per (seed, index), different across indices and seeds", async () => {
  const a = syntheticTextLines({ seed: 5 });
  const b = syntheticTextLines({ seed: 5 });
  assert.equal(a.length, 800000);
  assert.deepEqual(a.shape, [32, 128, 1]);
  for (const i of [0, 1, 799999]) {
    const [x, y] = await Promise.all([a.get(i), b.get(i)]);
    assert.equal(x.text, y.text);
    assert.deepEqual(x.image, y.image);
    assert.equal(x.image.length, 32 * 128);
  }
  // Out-of-order access gives the same sample as in-order access.
  assert.deepEqual((await b.get(3)).image, (await a.get(3)).image);
  const x0 = await a.get(0), x1 = await a.get(1);
  assert.ok(meanAbsDiff(x0.image, x1.image) > 1);
  const other = await syntheticTextLines({ seed: 6 }).get(0);
  assert.ok(other.text !== x0.text || meanAbsDiff(other.image, x0.image) > 1);
  await assert.rejects(async () => await a.get(800000), RangeError);
});

Deno.test("synthetic lines: transcripts follow the charset and length, images show ink", async () => {
  const digits = syntheticTextLines({ seed: 1, length: 100 });
  assert.equal(digits.charset, CHARSETS.digits);
  for (let i = 0; i < 8; i++) {
    const { text, image } = await digits.get(i);
    assert.match(text!, /^[0-9]{3,10}$/);
    // Text is darker than the background: the darkest pixels are well below the median.
    const sorted = Float64Array.from(image).sort();
    assert.ok(sorted[sorted.length >> 1] - sorted[8] > 40, `line ${i} has no visible ink`);
  }
  const abc = syntheticTextLines({ seed: 2, charset: "AB<&", minChars: 6, maxChars: 6 });
  for (let i = 0; i < 5; i++) assert.match((await abc.get(i)).text!, /^[AB<&]{6}$/);
  const zh = syntheticTextLines({
    seed: 3,
    charset: CHARSETS.chinese,
    fonts: ["WenQuanYi Micro Hei"],
  });
  const t = (await zh.get(0)).text!;
  assert.ok([...t].every((c) => CHARSETS.chinese.includes(c)), t);
  const latin = syntheticTextLines({ seed: 4, charset: CHARSETS.latin, channels: 3 });
  const l = await latin.get(0);
  assert.equal(l.image.length, 32 * 128 * 3);
  assert.ok([...l.text!].every((c) => CHARSETS.latin.includes(c)));
  assert.equal(l.text, l.text!.trim());
});

Deno.test("synthetic lines: a corpus gives windows of its lines", async () => {
  const corpus = "the quick brown fox\njumps over the lazy dog\n\n";
  const ds = syntheticTextLines({ corpus, seed: 9, minChars: 4, maxChars: 8 });
  assert.equal(ds.charset, [...new Set(corpus.replace(/\n/g, ""))].sort().join(""));
  for (let i = 0; i < 4; i++) {
    const t = (await ds.get(i)).text!;
    assert.ok(corpus.includes(t), t);
    assert.ok(t.length >= 1 && t.length <= 8);
  }
});

Deno.test("synthetic lines: glyphs differ between fonts for the same text", async () => {
  const sans = syntheticTextLines({ seed: 11, fonts: ["DejaVu Sans"], noise: 0 });
  const serif = syntheticTextLines({ seed: 11, fonts: ["Liberation Serif"], noise: 0 });
  const mono = syntheticTextLines({
    seed: 11,
    fonts: [{ file: sans.fonts[0].file.replace("DejaVuSans.ttf", "DejaVuSansMono.ttf") }],
    noise: 0,
  });
  assert.equal(mono.fonts[0].family, "DejaVu Sans Mono");
  for (const i of [0, 1]) {
    const [a, b, c] = await Promise.all([sans.get(i), serif.get(i), mono.get(i)]);
    assert.equal(a.text, b.text); // same draws, only the font differs
    assert.equal(a.text, c.text);
    assert.ok(meanAbsDiff(a.image, b.image) > 2, "DejaVu Sans vs Liberation Serif");
    assert.ok(meanAbsDiff(a.image, c.image) > 2, "DejaVu Sans vs DejaVu Sans Mono");
  }
});

Deno.test("synthetic lines: a missing or incomplete font is an error, not a fallback", () => {
  assert.throws(() => syntheticTextLines({ fonts: ["No Such Font Family 123"] }), DatasetError);
  assert.throws(
    () => syntheticTextLines({ fonts: [{ file: "/nonexistent/font.ttf" }] }),
    DatasetError,
  );
  // DejaVu has no CJK glyphs: Pango would silently substitute another font.
  assert.throws(
    () => syntheticTextLines({ charset: "中文", fonts: ["DejaVu Sans"] }),
    (e: Error) => e instanceof DatasetError && /no glyph/.test(e.message),
  );
  assert.throws(() => syntheticTextLines({ height: 4 }), RangeError);
  assert.throws(() => syntheticTextLines({ minChars: 5, maxChars: 2 }), RangeError);
  assert.throws(() => syntheticTextLines({ charset: " " }), TypeError);
});

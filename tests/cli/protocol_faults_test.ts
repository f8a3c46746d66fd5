/**
 * Fault cases of `deno task protocol` (issue 13): bad images in a folder, determinism, runs that
 * must not be overwritten.
 */
import assert from "node:assert/strict";
import { protocolMain } from "../../cli/protocol.ts";
import { badFolder } from "../data/_bad_folder.ts";
import { captureMain } from "./_helpers.ts";

const capture = (args: string[]) => captureMain(protocolMain, args, { warnings: "err" });

/** A folder protocol of a second: 4 test, 4 labeled, 8 pretraining images, one epoch each. */
function folderArgs(folder: string, out: string, name: string): string[] {
  return [
    ...["--dataset", `folder:${folder}`, "--unlabeled", "8", "--pretrain-batch", "4"],
    ...["--labeled", "4", "--test", "4", "--fractions", "1", "--min-labeled", "1"],
    ...["--pretrain-epochs", "1", "--head-epochs", "1", "--finetune-epochs", "1"],
    ...["--supervised-epochs", "1", "--encoder", "convnet", "--widths", "4,8"],
    ...["--head-hidden", "8", "--umap-points", "4", "--methods", "simclr", "--batch-size", "4"],
    ...["--out", out, "--run-name", name, "--quiet"],
  ];
}

/** results.json without its timings. */
async function results(dir: string): Promise<unknown> {
  const r = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  const strip = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(strip) : x && typeof x === "object"
      ? Object.fromEntries(
        Object.entries(x).filter(([k]) => k !== "seconds" && k !== "options" && k !== "name")
          .map(([k, v]) => [k, strip(v)]),
      )
      : x;
  return strip(r);
}

Deno.test("protocol on a folder with undecodable images (a truncated PNG among them) finishes and counts them", async () => {
  const root = await Deno.makeTempDir({ prefix: "selfsup_protofault_" });
  try {
    await badFolder(`${root}/imgs`);
    const r = await capture(folderArgs(`${root}/imgs`, `${root}/runs`, "bad"));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /12 images, 6 skipped \(.*truncated 2.*\), 2 non-image files ignored/);
    // each bad file is named once
    for (const f of ["bad_truncated.png", "bad_data.png", "bad_empty.png"]) {
      assert.equal(r.err.split(f).length - 1, 1, `${f} warned once:\n${r.err}`);
    }
    assert.ok(!/README/.test(r.err));
    const config = JSON.parse(await Deno.readTextFile(`${root}/runs/bad/config.json`));
    assert.equal(config.resolved.images.loaded, 12);
    assert.equal(config.resolved.images.skipped, 6);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("protocol: the same command twice gives identical results.json (every net seeded)", async () => {
  const root = await Deno.makeTempDir({ prefix: "selfsup_protoseed_" });
  try {
    const tiny = [
      ...["--dataset", "mnist-lines", "--unlabeled", "16", "--pretrain-batch", "8"],
      ...["--labeled", "8", "--test", "8", "--fractions", "1", "--min-labeled", "1"],
      ...["--pretrain-epochs", "1", "--head-epochs", "1", "--finetune-epochs", "1"],
      ...["--supervised-epochs", "1", "--widths", "4,8", "--head-hidden", "8"],
      ...["--umap-points", "4", "--methods", "simclr", "--batch-size", "4", "--quiet"],
      ...["--out", root],
    ];
    for (const name of ["a", "b"]) {
      const r = await capture([...tiny, "--run-name", name]);
      assert.equal(r.code, 0, r.err);
    }
    assert.deepEqual(await results(`${root}/a`), await results(`${root}/b`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("protocol: lists with empty entries and run names outside --out are refused", async () => {
  for (
    const [args, pattern] of [
      [["--methods", "simclr,,simsiam"], /--methods must be a comma-separated list without empty/],
      [["--fractions", "0.1,"], /--fractions must be a comma-separated list without empty/],
      [["--run-name", "../.."], /--run-name must be a single folder name/],
    ] as [string[], RegExp][]
  ) {
    const r = await capture([...args, "--quiet"]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
  }
});

// Bad command-line input ends, for every task, in one `error: ...` line and exit 2: no stack trace
// unless --verbose, and no work done first (a bad --export used to fail after the whole run).
import assert from "node:assert/strict";
import { pretrainMain } from "../../cli/pretrain.ts";
import { previewMain } from "../../cli/preview.ts";
import { protocolMain } from "../../cli/protocol.ts";
import { tableMain } from "../../cli/table.ts";
import { webMain } from "../../web/serve.ts";
import { lintMain } from "../../.ci/lint.ts";
import { mutateMain } from "../../bench/mutate.ts";
import { assertUserError, captureMain } from "./_helpers.ts";

const capture = (main: (args: string[]) => Promise<number>, args: string[]) =>
  captureMain(main, args, { warnings: "err" });

const NEVER = () => Promise.reject(new Error("must not run"));

Deno.test("every task: bad input is one error line with exit 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "selfsup_badinput_" });
  try {
    const file = `${root}/afile`;
    await Deno.writeTextFile(file, "x");
    await Deno.writeTextFile(`${root}/bad.json`, "{ not json");
    const tiny = ["--steps", "1", "--knn-bank", "0", "--quiet", "--backend", "cpu"];
    const cases: [string, (a: string[]) => Promise<number>, string[], RegExp][] = [
      ["pretrain --out", pretrainMain, [...tiny, "--out", file], /--out must name a folder.*afile/],
      [
        "pretrain --export",
        pretrainMain,
        [...tiny, "--out", `${root}/runs`, "--export", `${file}/enc`],
        /--export .*afile\/enc cannot be created: .*afile is a file/,
      ],
      ["pretrain --widths", pretrainMain, [...tiny, "--widths", "4,x"], /--widths must be/],
      ["preview --out", previewMain, ["--out", `${file}/v.png`], /--out .*afile is a file/],
      ["preview --count", previewMain, ["--count", "many"], /--count must be a number/],
      ["preview --method", previewMain, ["--method", "rotatoin"], /--method must be one of/],
      [
        "protocol --dataset",
        protocolMain,
        ["--dataset", "folder:/nonexistent", "--out", `${root}/p`, "--backend", "cpu"],
        /nonexistent/,
      ],
      ["table --from missing", tableMain, ["--from", `${root}/none.json`], /none\.json/],
      [
        "table --from not JSON",
        tableMain,
        ["--from", `${root}/bad.json`],
        /--from: expected a table report \(JSON\) in .*bad\.json/,
      ],
      ["web --encoder", (a) => webMain(a, NEVER), ["--encoder", root], /no model\.json in/],
      ["web no --encoder", (a) => webMain(a, NEVER), [], /--encoder is required/],
      ["web --port", (a) => webMain(a, NEVER), ["--port", "http"], /--port must be a number/],
      ["lint --fix", (a) => lintMain(a, NEVER), ["--fix"], /Unknown option --fix/],
      ["mutate --onyl", (a) => mutateMain(a, NEVER), ["--onyl", "x"], /did you mean --only/],
    ];
    for (const [what, main, args, pattern] of cases) {
      assertUserError(await capture(main, args), pattern, what);
    }
    // nothing was trained before the bad --export was refused
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["afile", "bad.json"]);
    // --verbose adds the stack
    const verbose = await capture(tableMain, ["--from", `${root}/bad.json`, "--verbose"]);
    assert.equal(verbose.code, 2);
    assert.match(verbose.err, /^\s+at /m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// Every task answers -h and --help with its usage and exit code 0, before doing any work.
import assert from "node:assert/strict";
import { pretrainMain } from "../../cli/pretrain.ts";
import { protocolMain } from "../../cli/protocol.ts";
import { tableMain } from "../../cli/table.ts";
import { parsePreviewArgs, previewMain } from "../../cli/preview.ts";
import { PRETEXT_PREVIEW_METHODS, pretextPreviewMain } from "../../cli/_preview_pretext.ts";
import { webMain } from "../../web/serve.ts";
import { lintMain } from "../../.ci/lint.ts";
import { mutateMain } from "../../bench/mutate.ts";

/** Help must come before any work: a task that gets this far has run something. */
const NEVER = () => Promise.reject(new Error("ran instead of printing its help"));

async function printed(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await run(), out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const MAINS: [string, (args: string[]) => Promise<number>][] = [
  ["pretrain", pretrainMain],
  ["protocol", protocolMain],
  ["table", tableMain],
  ["preview", previewMain],
  ["preview --method", (args) => pretextPreviewMain(["--method", "rotation", ...args])],
  ["preview --method (via preview)", (args) => previewMain(["--method", "gan", ...args])],
  ["web", (args) => webMain(args, NEVER)],
  ["lint", (args) => lintMain(args, NEVER)],
  ["mutate", (args) => mutateMain(args, NEVER)],
];

for (const flag of ["-h", "--help"]) {
  Deno.test(`every task answers ${flag}`, async () => {
    for (const [name, main] of MAINS) {
      const { code, out } = await printed(() => main([flag]));
      assert.equal(code, 0, `${name} ${flag}: ${out}`);
      assert.match(out, /^Usage: deno task \w+/m, `${name} ${flag}`);
      assert.match(out, /-h, --help/, `${name} ${flag}`);
    }
    const preview = parsePreviewArgs([flag]);
    assert.ok(preview.help);
    assert.match(preview.text, /^Usage: deno task preview/);
    // the augmentation preview's help lists the other mode and its tasks
    for (const m of PRETEXT_PREVIEW_METHODS) assert.match(preview.text, new RegExp(m));
  });
}

/**
 * Fault injection against the real command lines (issue 13): each case runs `deno run
 * cli/pretrain.ts` or `cli/protocol.ts` as its own process on a tiny setup, after breaking
 * something (bad images, damaged checkpoints, wrong flags, another task's run), and reports the
 * exit code, whether a stack trace was printed, and the line that tells the user what happened.
 * Prints the markdown table kept in docs/RELIABILITY.md.
 *
 *     deno run -A docs/reliability_cases.ts
 *
 * @module
 */
import { badFolder } from "../tests/data/_bad_folder.ts";

const root = await Deno.makeTempDir({ prefix: "selfsup_reliability_" });
const imgs = `${root}/imgs`;
const runs = `${root}/runs`;
await badFolder(imgs);

const TINY = [
  ...["--dataset", `folder:${imgs}`, "--encoder", "convnet", "--widths", "4,8"],
  ...["--projection-dim", "8", "--hidden-dim", "8", "--batch-size", "4", "--steps", "2"],
  ...["--checkpoint-every", "1", "--knn-bank", "0", "--backend", "cpu", "--quiet"],
  ...["--out", runs],
];
const PROTO = [
  ...["--dataset", `folder:${imgs}`, "--unlabeled", "8", "--pretrain-batch", "4"],
  ...["--labeled", "4", "--test", "4", "--fractions", "1", "--min-labeled", "1"],
  ...["--pretrain-epochs", "1", "--head-epochs", "1", "--finetune-epochs", "1"],
  ...["--supervised-epochs", "1", "--encoder", "convnet", "--widths", "4,8"],
  ...["--head-hidden", "8", "--umap-points", "4", "--methods", "simclr", "--batch-size", "4"],
  ...["--backend", "cpu", "--quiet", "--out", runs],
];

interface Outcome {
  code: number;
  stack: boolean;
  line: string;
}

async function cli(task: "pretrain" | "protocol", args: string[], pick: RegExp): Promise<Outcome> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", `cli/${task}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const lines = text.split("\n");
  const line = lines.find((l) => pick.test(l)) ?? lines.find((l) => l.startsWith("error:")) ?? "";
  return { code: out.code, stack: /^\s+at /m.test(text), line: line.replaceAll(root, "$T") };
}

const pretrain = (args: string[], pick = /^error:/) => cli("pretrain", [...TINY, ...args], pick);
const rows: string[][] = [];
async function run(what: string, expected: string, f: () => Promise<Outcome>) {
  const o = await f();
  const cell = o.line.replaceAll("|", "\\|").slice(0, 220);
  rows.push([what, expected, String(o.code), o.stack ? "yes" : "no", `\`${cell}\``]);
  console.error(`${o.code} ${what}`);
}

const rewrite = async (path: string, edit: (b: Uint8Array) => void) => {
  const b = await Deno.readFile(path);
  edit(b);
  await Deno.writeFile(path, b);
};

await run(
  "folder: 12 good, 6 bad (truncated PNG, garbled data, zero-byte, fake)",
  "0, counts",
  () => pretrain(["--run-name", "ok"], /images, \d+ skipped/),
);
await run(
  "protocol on the same folder",
  "0, counts",
  () => cli("protocol", [...PROTO, "--run-name", "proto"], /images, \d+ skipped/),
);
await run("protocol twice, same --seed: results.json equal", "0", async () => {
  await cli("protocol", [...PROTO, "--run-name", "proto2"], /x^/);
  const strip = (t: string) =>
    JSON.stringify(
      JSON.parse(t),
      (k, v) => ["seconds", "name", "options"].includes(k) ? undefined : v,
    );
  const [a, b] = await Promise.all(
    ["proto", "proto2"].map((n) => Deno.readTextFile(`${runs}/${n}/results.json`)),
  );
  return {
    code: strip(a) === strip(b) ? 0 : 1,
    stack: false,
    line: strip(a) === strip(b) ? "identical" : "differ",
  };
});
await run(
  "--dataset folder:/nonexistent",
  "2",
  () => pretrain(["--run-name", "x", "--dataset", "folder:/nonexistent"]),
);
await Deno.mkdir(`${root}/empty`);
await run(
  "--dataset folder:<empty folder>",
  "2",
  () => pretrain(["--run-name", "x", "--dataset", `folder:${root}/empty`]),
);
await Deno.writeTextFile(`${root}/afile`, "x");
await run(
  "--out <a file>",
  "2",
  () => cli("pretrain", [...TINY, "--out", `${root}/afile`, "--run-name", "x"], /^error:/),
);
await run("--run-name ../..", "2", () => pretrain(["--run-name", "../.."]));
await run(
  "protocol --methods simclr,,simsiam",
  "2",
  () => cli("protocol", ["--methods", "simclr,,simsiam", "--quiet"], /^error:/),
);

// resume
await run(
  "--resume, flags unchanged, run complete",
  "0",
  () => cli("pretrain", ["--resume", "--out", runs, "--run-name", "ok"], /already complete/),
);
await run(
  "--resume --batch-size 8 (saved 4)",
  "2",
  () =>
    cli(
      "pretrain",
      ["--resume", "--out", runs, "--run-name", "ok", "--batch-size", "8"],
      /^error:/,
    ),
);
await run(
  "--resume --steps 4 --lr 0.01",
  "0, notices",
  () =>
    cli(
      "pretrain",
      ["--resume", "--out", runs, "--run-name", "ok", "--steps", "4", "--lr", "0.01"],
      /resume: --lr/,
    ),
);
await Deno.remove(`${runs}/ok/results.json`);
const bin = `${runs}/ok/checkpoint/tensors.bin`;
await Deno.writeFile(bin, new Uint8Array((await Deno.stat(bin)).size));
await run(
  "zero-filled tensors.bin of the right size",
  "0, fallback",
  () =>
    cli(
      "pretrain",
      ["--resume", "--out", runs, "--run-name", "ok", "--steps", "5"],
      /using the previous/,
    ),
);
await Deno.remove(`${runs}/ok/results.json`);
await rewrite(`${runs}/ok/checkpoint/tensors.bin`, (b) => (b[b.length >> 1] ^= 4));
await run(
  "one bit flipped in tensors.bin",
  "0, fallback",
  () =>
    cli(
      "pretrain",
      ["--resume", "--out", runs, "--run-name", "ok", "--steps", "6"],
      /using the previous/,
    ),
);
await Deno.remove(`${runs}/ok/results.json`);
for await (const e of Deno.readDir(`${runs}/ok`)) {
  if (e.name.startsWith("checkpoint")) {
    await Deno.writeTextFile(`${runs}/ok/${e.name}/checkpoint.json`, "garbage");
  }
}
await run(
  "garbage checkpoint.json in every checkpoint",
  "2",
  () => cli("pretrain", ["--resume", "--out", runs, "--run-name", "ok", "--steps", "7"], /^error:/),
);
for await (const e of Deno.readDir(`${runs}/ok`)) {
  if (e.name.startsWith("checkpoint")) {
    await Deno.remove(`${runs}/ok/${e.name}`, { recursive: true });
  }
}
const metrics = await Deno.readTextFile(`${runs}/ok/metrics.jsonl`);
await run("--resume with no checkpoint (metrics.jsonl kept)", "2", async () => {
  const o = await cli("pretrain", ["--resume", "--out", runs, "--run-name", "ok"], /^error:/);
  const kept = (await Deno.readTextFile(`${runs}/ok/metrics.jsonl`)) === metrics;
  return { ...o, line: `${o.line} [metrics.jsonl ${kept ? "unchanged" : "CHANGED"}]` };
});
await Deno.writeTextFile(`${runs}/ok/config.json`, "{garbage");
await run(
  "--resume, garbage config.json",
  "2",
  () => cli("pretrain", ["--resume", "--out", runs, "--run-name", "ok"], /^error:/),
);
await run(
  "--resume of a run that never existed",
  "2",
  () => cli("pretrain", ["--resume", "--out", runs, "--run-name", "nope"], /^error:/),
);

// runs that must not be overwritten
await Deno.mkdir(`${runs}/cut/checkpoint.old`, { recursive: true });
await Deno.writeTextFile(`${runs}/cut/checkpoint.old/checkpoint.json`, "{}");
await run(
  "fresh run over an interrupted save (only checkpoint.old)",
  "2",
  () => pretrain(["--run-name", "cut"]),
);
await run("pretrain --run-name <a protocol run>", "2", () => pretrain(["--run-name", "proto"]));
await run(
  "pretrain --resume of a protocol run",
  "2",
  () => cli("pretrain", ["--resume", "--out", runs, "--run-name", "proto"], /^error:/),
);
await run(
  "protocol --resume, its own run (finished)",
  "0",
  () =>
    cli("protocol", ["--resume", "--out", runs, "--run-name", "proto", "--quiet"], /fine-tuned vs/),
);

// divergence
await run(
  "--lr 1e6 --steps 30 --checkpoint-every 1 --warmup 0 --clip-norm 1",
  "1, finite ckpt",
  async () => {
    const args = [...TINY, "--run-name", "nan", "--lr", "1e6", "--warmup", "0", "--clip-norm", "1"];
    args[args.indexOf("--steps") + 1] = "30";
    const o = await cli("pretrain", args, /^error:/);
    let finite = true;
    for await (const e of Deno.readDir(`${runs}/nan`)) {
      if (!e.name.startsWith("checkpoint")) continue;
      const meta = JSON.parse(await Deno.readTextFile(`${runs}/nan/${e.name}/checkpoint.json`));
      const b = await Deno.readFile(`${runs}/nan/${e.name}/tensors.bin`);
      for (const t of meta.tensors) {
        if (t.dtype !== "float32") continue;
        if (
          !new Float32Array(b.slice(t.offset, t.offset + t.bytes).buffer).every(Number.isFinite)
        ) finite = false;
      }
    }
    return {
      ...o,
      line: `${o.line} [checkpoints on disk ${finite ? "all finite" : "NOT FINITE"}]`,
    };
  },
);

console.log("| case | expected exit | exit | stack | what the user reads |");
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
await Deno.remove(root, { recursive: true });

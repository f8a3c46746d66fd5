// The tasks behind scripts (deno task lint, deno task mutate) answer -h/--help with their usage
// and exit 0 without running anything, and parse through the shared parser like every task.
import assert from "node:assert/strict";
import { LINT_STEPS, lintMain } from "../../.ci/lint.ts";
import { mutateMain, type Row } from "../../bench/mutate.ts";

async function printed(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await run(), out: lines.join("\n") };
  } finally {
    Object.assign(console, { log, error });
  }
}

Deno.test("lint: -h and --help print the usage and run no step", async () => {
  for (const flag of ["-h", "--help"]) {
    const ran: string[][] = [];
    const r = await printed(() => lintMain([flag], (a) => (ran.push(a), Promise.resolve(0))));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Usage: deno task lint/, r.out);
    assert.match(r.out, /deno publish --dry-run/, r.out);
    assert.deepEqual(ran, [], flag);
  }
});

Deno.test("lint: runs every step in order and stops at the first failure with its code", async () => {
  const ran: string[][] = [];
  const all = await printed(() => lintMain([], (a) => (ran.push(a), Promise.resolve(0))));
  assert.equal(all.code, 0);
  assert.deepEqual(ran, LINT_STEPS);
  // each step is announced as it starts (a whole lint takes a minute or more)
  assert.match(all.out, /^lint 1\/5: deno fmt --check$/m);
  assert.match(all.out, /^lint 5\/5: deno publish --dry-run/m);
  const failed: string[][] = [];
  const r = await printed(() =>
    lintMain([], (a) => (failed.push(a), Promise.resolve(failed.length === 2 ? 3 : 0)))
  );
  assert.equal(r.code, 3);
  assert.deepEqual(failed, LINT_STEPS.slice(0, 2));
  assert.match(r.out, /lint: deno lint failed \(exit 3\)/);
  const bad = await printed(() => lintMain(["--fix"], () => Promise.resolve(0)));
  assert.equal(bad.code, 2);
  assert.match(bad.out, /^error: Unknown option --fix/);
});

Deno.test("mutate: -h and --help print the usage and mutate nothing; flags reach each file", async () => {
  const calls: unknown[][] = [];
  const spy = (...a: unknown[]) => (calls.push(a), Promise.resolve(null as Row | null));
  for (const flag of ["-h", "--help"]) {
    const r = await printed(() => mutateMain([flag], spy));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Usage: deno task mutate/, r.out);
    assert.match(r.out, /--only/, r.out);
  }
  assert.deepEqual(calls, []);
  const r = await printed(() =>
    mutateMain(
      ["losses/a.ts", "--with", "x_test.ts,y_test.ts", "losses/b.ts", "--filter", "/re|x/"],
      spy,
    )
  );
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(calls, [
    ["losses/a.ts", ["x_test.ts", "y_test.ts"], [], "/re|x/", false],
    ["losses/b.ts", ["x_test.ts", "y_test.ts"], [], "/re|x/", false],
  ]);
  // --stock (Stryker's instrumenter unpatched) reaches each file too
  await printed(() => mutateMain(["--stock", "losses/_ops.ts:1-140", "--only", "t_test.ts"], spy));
  assert.deepEqual(calls.pop(), ["losses/_ops.ts:1-140", [], ["t_test.ts"], undefined, true]);
  // a misspelled flag was taken for a source file before
  const bad = await printed(() => mutateMain(["--wiht", "a_test.ts"], spy));
  assert.equal(bad.code, 2);
  assert.match(bad.out, /Unknown option --wiht \(did you mean --with\?\)/);
  assert.equal(calls.length, 2);
});

Deno.test("deno task lint --help and deno task mutate -h exit 0 with their usage (deno.json)", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  for (const [task, flag] of [["lint", "--help"], ["mutate", "-h"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", task, flag],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `${task} ${flag}: ${new TextDecoder().decode(out.stderr)}`);
    assert.match(text, new RegExp(`^Usage: deno task ${task}`), text);
  }
});

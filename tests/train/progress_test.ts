/**
 * Issue 17: the progress display of `train` (train/progress.ts), its mirror test, with no tensors
 * and a fake clock: `formatDuration` at each unit's edges; the plain lines (default frequency
 * `max(1, round(total / 20))`, the last step always, the figures' number formats, the ETA from the
 * rate since `start`); the terminal bar (filled cells rounded, percentage floored, `\r\x1b[2K`
 * redraws, `line` and `done` around it); and the defaults read from `Deno.stderr` (patched for the
 * test, restored after). Every expected string is written out by hand.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatDuration, progressReporter } from "../../train/progress.ts";

Deno.test("formatDuration: seconds, minutes and hours at their edges; ? when not finite", () => {
  const cases: [number, string][] = [
    [NaN, "?"],
    [Infinity, "?"],
    [-Infinity, "?"],
    [-5, "0s"],
    [0, "0s"],
    [0.4, "0s"],
    [12, "12s"],
    [59.4, "59s"],
    [59.5, "1m00s"],
    [60, "1m00s"],
    [185, "3m05s"],
    [3599, "59m59s"],
    [3600, "1h00m"],
    [3725, "1h02m"],
    [36000 + 11 * 60 + 59, "10h11m"],
  ];
  for (const [s, text] of cases) assert.equal(formatDuration(s), text, String(s));
});

/** A reporter on a fake clock (ms, starting at `t0`) writing into `out`. */
function fake(total: number, options: Parameters<typeof progressReporter>[1] = {}, t0 = 0) {
  const out: string[] = [];
  const clock = { t: t0 };
  const p = progressReporter(total, {
    terminal: false,
    write: (s) => out.push(s),
    now: () => clock.t,
    ...options,
  });
  return { p, out, clock };
}

Deno.test("progressReporter, plain: every round(total / 20) steps and the last, figures formatted", () => {
  const { p, out, clock } = fake(50); // every = round(2.5) = 3
  for (let step = 1; step <= 50; step++) {
    clock.t = step * 100; // 10 steps per second
    p.update(step, { loss: 1.5 });
  }
  assert.deepEqual(
    out.map((l) => Number(l.split(" ")[1].split("/")[0])),
    [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 50],
  );
  assert.equal(out[0], "step 3/50 loss 1.500 ETA 5s\n"); // 47 steps at 10 per second: 4.7 s
  assert.equal(out[16], "step 50/50 loss 1.500 ETA 0s\n");
  p.line("eval 0.5");
  p.done();
  assert.equal(out.at(-1), "eval 0.5\n");
  assert.equal(out.length, 18);
  // 5 and 10 steps print every step (round(0.25) = 0 and round(0.5) = 1), 30 steps every 2
  const steps = (total: number) => {
    const r = fake(total);
    for (let step = 1; step <= total; step++) r.p.update(step, {});
    return r.out.map((l) => Number(l.split(" ")[1].split("/")[0]));
  };
  assert.deepEqual(steps(5), [1, 2, 3, 4, 5]);
  assert.deepEqual(steps(10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(steps(30), Array.from({ length: 15 }, (_, i) => 2 * i + 2));
});

Deno.test("progressReporter, plain: an explicit every, the ETA from the steps done since start", () => {
  // the clock starts at 10 s: times are counted from there
  const { p, out, clock } = fake(100, { every: 40, start: 20 }, 10_000);
  clock.t = 15_000;
  p.update(30, { a: 0 }); // not a multiple of 40
  p.update(40, { a: 0 }); // 20 steps in 5 s: 4 per second, 60 left
  clock.t = 70_000;
  p.update(80, { a: 0 }); // 60 steps in 60 s: 1 per second, 20 left
  p.update(100, { a: 0 });
  assert.deepEqual(out, [
    "step 40/100 a 0.000 ETA 15s\n",
    "step 80/100 a 0.000 ETA 20s\n",
    "step 100/100 a 0.000 ETA 0s\n",
  ]);
  // no time elapsed: the rate is taken over 1e-9 s, so the ETA is 0s, and ? with no step done
  const still = fake(10, { every: 1, start: 4 });
  still.p.update(5, {});
  still.p.update(4, {});
  assert.deepEqual(still.out, ["step 5/10  ETA 0s\n", "step 4/10  ETA ?\n"]);
  // 1 step in 2 hours, 3 left
  const slow = fake(4, { every: 1 });
  slow.clock.t = 7_200_000;
  slow.p.update(1, {});
  assert.equal(slow.out[0], "step 1/4  ETA 6h00m\n");
});

Deno.test("progressReporter: the figures' formats (4 significant digits, 1 decimal from 100, exponents outside [1e-3, 1e5))", () => {
  const { p, out } = fake(1);
  p.update(1, {
    zero: 0,
    a: 1.5,
    b: -0.5,
    c: 0.001,
    d: 0.000999,
    e: -0.0002,
    f: 99.99,
    g: 100,
    h: -150.24,
    i: 99999,
    j: 100000,
    k: -123456,
    l: NaN,
    m: Infinity,
    n: -Infinity,
  });
  assert.equal(
    out[0],
    "step 1/1 zero 0.000 a 1.500 b -0.5000 c 0.001000 d 9.99e-4 e -2.00e-4 f 99.99 g 100.0 " +
      "h -150.2 i 99999.0 j 1.00e+5 k -1.23e+5 l NaN m Infinity n -Infinity ETA 0s\n",
  );
});

Deno.test("progressReporter, terminal: the bar redrawn in place, lines and done around it", () => {
  const { p, out, clock } = fake(7, { terminal: true, every: 1000 });
  p.line("before");
  p.done(); // nothing drawn: no newline
  clock.t = 3000;
  p.update(3, { loss: 2 }); // 24 * 3/7 = 10.3 cells, 42.9%, 1 step per second
  p.update(4, { loss: 1 }); // 13.7 cells, 57.1%
  p.line("eval");
  p.update(7, {});
  p.done();
  p.line("after");
  assert.deepEqual(out, [
    "before\n",
    "\r\x1b[2K[##########..............] 3/7 42% loss 2.000 ETA 4s",
    "\r\x1b[2K[##############..........] 4/7 57% loss 1.000 ETA 2s",
    "\r\x1b[2Keval\n",
    "\r\x1b[2K[########################] 7/7 100%  ETA 0s",
    "\n",
    "after\n",
  ]);
});

Deno.test("progressReporter: by default writes to stderr, draws the bar when stderr is a terminal, and uses the real clock", () => {
  const stderr = Deno.stderr as unknown as {
    writeSync: (b: Uint8Array) => number;
    isTerminal: () => boolean;
  };
  const { writeSync, isTerminal } = stderr;
  const written: string[] = [];
  try {
    stderr.writeSync = (b) => (written.push(new TextDecoder().decode(b)), b.length);
    stderr.isTerminal = () => true;
    const bar = progressReporter(2);
    bar.update(2, {});
    bar.done();
    stderr.isTerminal = () => false;
    const plain = progressReporter(2);
    plain.update(1, {});
    stderr.isTerminal = () => {
      throw new Error("no tty");
    };
    const fallback = progressReporter(2);
    fallback.update(2, {});
  } finally {
    stderr.writeSync = writeSync;
    stderr.isTerminal = isTerminal;
  }
  assert.deepEqual(written.slice(1), ["\n", written[2], "step 2/2  ETA 0s\n"]);
  assert.equal(written[0], "\r\x1b[2K[########################] 2/2 100%  ETA 0s");
  // the real clock: a finite ETA (a few milliseconds for one step, one left), not "?"
  assert.match(written[2], /^step 1\/2 {2}ETA \d+s\n$/);
});

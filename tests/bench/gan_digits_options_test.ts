/**
 * `bench/gan_digits.ts`'s option logic: where each judge's weights are cached (two judges in one
 * folder must not read each other's weights; the default judge keeps the file name it always had),
 * and when a checkpoint may be resumed with another learning-rate schedule (only when every
 * iteration it has done ran at the rate the new schedule gives it).
 */
import assert from "node:assert/strict";
import { checkSameRun, classifierCacheFile, JUDGE_WIDTHS } from "../../bench/gan_digits.ts";

Deno.test("gan_digits: the default judge keeps its cache file, other widths get their own", () => {
  assert.deepEqual([...JUDGE_WIDTHS], [16, 32]);
  assert.equal(
    classifierCacheFile("runs/j", [16, 32], 3000),
    "runs/j/classifier_3000_weights.json",
  );
  const strong = classifierCacheFile("runs/j", [32, 64, 128], 4000);
  assert.equal(strong, "runs/j/classifier_32-64-128_4000_weights.json");
  const names = [[16, 32], [32, 64], [32, 64, 128], [16, 32, 64]].map((w) =>
    classifierCacheFile("d", w, 3000)
  );
  assert.equal(new Set(names).size, names.length);
  assert.notEqual(
    classifierCacheFile("d", [32, 64], 3000),
    classifierCacheFile("d", [32, 64], 4000),
  );
});

/** The options `checkSameRun` reads, as the CLI parses them, for a resumed run. */
const resume = (over: Record<string, unknown> = {}) => ({
  batch: 64,
  hidden: 0,
  projectionNorm: "channel",
  generatorWidths: undefined,
  discriminatorWidths: undefined,
  weightDecay: 0,
  lrDecayFrom: undefined,
  iterations: 600,
  resume: "runs/x/it500",
  ...over,
});
/** A checkpoint's `state.json` as the bench writes it. */
const written = (over: Record<string, unknown> = {}) => ({
  iteration: 500,
  batch: 64,
  seed: 0,
  lr: 2e-4,
  generatorWidths: "default",
  projectionNorm: "channel",
  discriminatorWidths: "default",
  hidden: 0,
  weightDecay: 0,
  lrDecayFrom: null,
  iterations: 20000,
  ...over,
});
const ok = (meta: Record<string, unknown>, args: Record<string, unknown>) =>
  checkSameRun("runs/x/it500", meta, args as never);
const refused = (meta: Record<string, unknown>, args: Record<string, unknown>, flag: string) =>
  assert.throws(() => ok(meta, args), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, new RegExp(`Cannot resume runs/x/it500: it was written with ${flag} `));
    return true;
  });

Deno.test("gan_digits: a checkpoint from before any decay resumes with another schedule", () => {
  // the same constant schedule, any --iterations
  ok(written(), resume({ iterations: 30000 }));
  // a constant-rate run continued with a decay that starts at or after the checkpoint
  ok(written(), resume({ lrDecayFrom: 5000, iterations: 10000 }));
  ok(written(), resume({ lrDecayFrom: 500, iterations: 1000 }));
  // a decaying run's checkpoint from before its decay, the decay moved (the speed now known)
  ok(
    written({ lrDecayFrom: 6000, iterations: 12000 }),
    resume({ lrDecayFrom: 4000, iterations: 8000 }),
  );
  ok(written({ lrDecayFrom: 500, iterations: 1000 }), resume());
});

Deno.test("gan_digits: a checkpoint past a decay's start keeps its schedule, and its nets", () => {
  // the new decay began before the checkpoint: its first iterations ran at another rate
  refused(written(), resume({ lrDecayFrom: 400, iterations: 1000 }), "--lr-decay-from");
  // the run's own decay had begun: another end or start is another run
  const decaying = written({ iteration: 7000, lrDecayFrom: 6000, iterations: 12000 });
  refused(decaying, resume({ lrDecayFrom: 6000, iterations: 14000 }), "--iterations");
  refused(decaying, resume({ lrDecayFrom: 6500, iterations: 12000 }), "--lr-decay-from");
  refused(decaying, resume(), "--lr-decay-from");
  ok(decaying, resume({ lrDecayFrom: 6000, iterations: 12000 }));
  // nets, batch and weight decay are checked whatever the schedule
  refused(written(), resume({ batch: 128, lrDecayFrom: 5000, iterations: 10000 }), "--batch");
  refused(written(), resume({ weightDecay: 2.5e-5 }), "--weight-decay");
  refused(written(), resume({ hidden: 1024 }), "--hidden");
});

/** The learning-rate schedules {@linkcode lrSchedule} knows. */
export const SCHEDULE_NAMES = ["constant", "cosine", "step"] as const;

/** A learning-rate schedule's name. */
export type ScheduleName = typeof SCHEDULE_NAMES[number];

/** Options for {@linkcode lrSchedule}. */
export interface ScheduleOptions {
  /**
   * `constant`, `cosine` (SGDR without restarts, Loshchilov & Hutter 2017, as SimCLR/MoCo v2 use
   * it) or `step` (multiply by `gamma` at each milestone).
   * @default "cosine"
   */
  name?: ScheduleName;
  /** Peak learning rate (after warmup). */
  lr: number;
  /** Total number of steps (the cosine reaches `minLr` there). */
  totalSteps: number;
  /**
   * Linear warmup from `lr / warmupSteps` to `lr` over this many steps (Goyal et al. 2017).
   * @default 0
   */
  warmupSteps?: number;
  /**
   * Floor of the cosine schedule.
   * @default 0
   */
  minLr?: number;
  /**
   * Step schedule: steps at which the rate is multiplied by `gamma`.
   * @default [0.6 * totalSteps, 0.8 * totalSteps] (rounded)
   */
  milestones?: number[];
  /**
   * Step schedule: the factor applied at each milestone.
   * @default 0.1
   */
  gamma?: number;
}

/**
 * A learning-rate schedule: a function from the global step (from 0) to the learning rate.
 *
 * @param options the schedule's name, peak rate, length and warmup
 * @returns `step => lr`
 * @throws {RangeError} for an unknown name or out-of-range values
 *
 * @example
 * ```ts
 * import { lrSchedule } from "./schedule.ts";
 * import assert from "node:assert/strict";
 * const lr = lrSchedule({ name: "cosine", lr: 1, totalSteps: 110, warmupSteps: 10 });
 * assert.equal(lr(0), 0.1);
 * assert.equal(lr(10), 1);
 * assert.ok(Math.abs(lr(60) - 0.5) < 1e-12);
 * ```
 */
export function lrSchedule(options: ScheduleOptions): (step: number) => number {
  const {
    name = "cosine",
    lr,
    totalSteps,
    warmupSteps = 0,
    minLr = 0,
    gamma = 0.1,
  } = options;
  if (!(SCHEDULE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Unknown schedule: expected one of ${SCHEDULE_NAMES.join(", ")}, received "${name}"`,
    );
  }
  if (!(Number.isFinite(lr) && lr >= 0)) {
    throw new RangeError(`Cannot build a schedule: lr must be finite and >= 0, received ${lr}`);
  }
  if (!(Number.isInteger(totalSteps) && totalSteps > 0)) {
    throw new RangeError(
      `Cannot build a schedule: totalSteps must be a positive integer, received ${totalSteps}`,
    );
  }
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0 && warmupSteps <= totalSteps)) {
    throw new RangeError(
      `Cannot build a schedule: warmupSteps must be an integer in [0, ${totalSteps}], received ${warmupSteps}`,
    );
  }
  if (!(minLr >= 0 && minLr <= lr)) {
    throw new RangeError(`Cannot build a schedule: minLr must be in [0, ${lr}], received ${minLr}`);
  }
  if (!(gamma > 0)) {
    throw new RangeError(`Cannot build a schedule: gamma must be > 0, received ${gamma}`);
  }
  const milestones = options.milestones ??
    [Math.round(0.6 * totalSteps), Math.round(0.8 * totalSteps)];
  return (step: number) => {
    if (step < warmupSteps) return lr * (step + 1) / warmupSteps;
    switch (name) {
      case "constant":
        return lr;
      case "step":
        return lr * gamma ** milestones.filter((m) => step >= m).length;
      case "cosine": {
        const span = Math.max(1, totalSteps - warmupSteps);
        const t = Math.min(1, (step - warmupSteps) / span);
        return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
      }
    }
  };
}

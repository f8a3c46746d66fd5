/**
 * What the tests that launch real processes under `mpirun` share: whether mpirun is there (the
 * tests skip without it and fail under CI=true, tests/_ci.ts), its flags and its environment.
 */
import assert from "node:assert/strict";
import { requireOrSkip } from "../_ci.ts";

async function hasMpirun(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("mpirun", { args: ["--version"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

/** True when mpirun runs here; otherwise the caller's tests skip (or fail under CI=true). */
export const mpiAvailable = requireOrSkip(await hasMpirun(), "mpirun (Debian: openmpi-bin)");

/** mpirun's flags: root is allowed (CI containers), more ranks than cores is fine. */
export const MPIRUN = ["--allow-run-as-root", "--oversubscribe"];

/**
 * Shared memory without cross-memory attach (a container's ptrace rules can refuse it, "Read -1,
 * expected ..."); the messages here are small.
 */
export const MPI_ENV = { OMPI_MCA_btl_vader_single_copy_mechanism: "none" };

/**
 * Runs a task (`cli/<name>.ts`) under `mpirun -np 2` and asserts that it ended with 0 (mpirun
 * does only when every rank did), the output in the message.
 *
 * @param cli the script's path
 * @param args its arguments
 * @param mpirunArgs mpirun's own flags beyond {@linkcode MPIRUN} (e.g. `--timeout 90`)
 * @returns stdout and stderr of both ranks, joined
 */
export async function runUnderMpirun(
  cli: string,
  args: string[],
  mpirunArgs: string[] = [],
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("mpirun", {
    args: [...MPIRUN, ...mpirunArgs, "-np", "2", Deno.execPath(), "run", "-A", cli, ...args],
    env: MPI_ENV,
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  return text;
}

/** The step numbers of a run's `metrics.jsonl`, in the order written (each rank-0 step once). */
export async function stepRecords(metricsFile: string): Promise<number[]> {
  const text = await Deno.readTextFile(metricsFile);
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l))
    .filter((r) => r.kind === "step").map((r) => r.step);
}

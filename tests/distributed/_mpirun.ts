/**
 * What the tests that launch real processes under `mpirun` share: whether mpirun is there (the
 * tests skip without it and fail under CI=true, tests/_ci.ts), its flags and its environment.
 */
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

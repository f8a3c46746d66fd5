/**
 * MPI through `Deno.dlopen`: library discovery (Open MPI first, then MPICH-ABI libraries), and
 * the handful of collectives data-parallel training needs, on Float32Arrays, called
 * synchronously. Open MPI's handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`) are the addresses
 * of exported structs (`ompi_mpi_comm_world`...), which Deno hands back for a static declared
 * `{ type: "pointer" }`; MPICH (and Intel MPI, MVAPICH) define them as integer constants
 * (mpi.h: `MPI_COMM_WORLD 0x44000000`, `MPI_FLOAT 0x4c00040a`, `MPI_SUM 0x58000003`).
 *
 * @module
 */

/** Raised when no MPI library can be loaded; the message says what to install. */
export class MpiUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message why MPI cannot be used and what to install
   */
  constructor(message: string) {
    super(message);
    this.name = "MpiUnavailableError";
  }
}

const OMPI_SYMBOLS = {
  MPI_Initialized: { parameters: ["buffer"], result: "i32" },
  MPI_Init: { parameters: ["pointer", "pointer"], result: "i32" },
  MPI_Finalized: { parameters: ["buffer"], result: "i32" },
  MPI_Finalize: { parameters: [], result: "i32" },
  MPI_Comm_rank: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Comm_size: { parameters: ["pointer", "buffer"], result: "i32" },
  MPI_Allreduce: {
    parameters: ["buffer", "buffer", "i32", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  MPI_Bcast: { parameters: ["buffer", "i32", "pointer", "i32", "pointer"], result: "i32" },
  MPI_Allgather: {
    parameters: ["buffer", "i32", "pointer", "buffer", "i32", "pointer", "pointer"],
    result: "i32",
  },
  MPI_Barrier: { parameters: ["pointer"], result: "i32" },
  MPI_Abort: { parameters: ["pointer", "i32"], result: "i32" },
  ompi_mpi_comm_world: { type: "pointer" },
  ompi_mpi_float: { type: "pointer" },
  ompi_mpi_op_sum: { type: "pointer" },
} as const;

const MPICH_SYMBOLS = {
  MPI_Initialized: { parameters: ["buffer"], result: "i32" },
  MPI_Init: { parameters: ["pointer", "pointer"], result: "i32" },
  MPI_Finalized: { parameters: ["buffer"], result: "i32" },
  MPI_Finalize: { parameters: [], result: "i32" },
  MPI_Comm_rank: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Comm_size: { parameters: ["i32", "buffer"], result: "i32" },
  MPI_Allreduce: {
    parameters: ["buffer", "buffer", "i32", "i32", "i32", "i32"],
    result: "i32",
  },
  MPI_Bcast: { parameters: ["buffer", "i32", "i32", "i32", "i32"], result: "i32" },
  MPI_Allgather: {
    parameters: ["buffer", "i32", "i32", "buffer", "i32", "i32", "i32"],
    result: "i32",
  },
  MPI_Barrier: { parameters: ["i32"], result: "i32" },
  MPI_Abort: { parameters: ["i32", "i32"], result: "i32" },
} as const;

const MPICH_COMM_WORLD = 0x44000000;
const MPICH_FLOAT = 0x4c00040a;
const MPICH_SUM = 0x58000003;

/** The MPI calls the collectives use, with the handles already bound. */
export interface MpiLibrary {
  /** The file that was loaded. */
  readonly path: string;
  /** `"open-mpi"` or `"mpich"` (the handle convention). */
  readonly flavor: "open-mpi" | "mpich";
  init(): void;
  finalize(): void;
  rank(): number;
  size(): number;
  /** Elementwise sum of `send` over all ranks into `recv` (same length). */
  allreduceSum(send: Float32Array, recv: Float32Array): void;
  /** `buffer` of rank `root` copied into every rank's `buffer`. */
  broadcast(buffer: Float32Array, root: number): void;
  /** Every rank's `send` concatenated in rank order into `recv` (size x send.length). */
  allGather(send: Float32Array, recv: Float32Array): void;
  barrier(): void;
  /** Ends every rank of the job with `code`. */
  abort(code: number): void;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The library names tried in order: `SELFSUP_MPI` (a path or a name) when set, then Open MPI's
 * sonames, then the MPICH ABI's (`libmpi.so.12`: MPICH, Intel MPI, MVAPICH).
 */
export function mpiCandidates(): string[] {
  const fromEnv = env("SELFSUP_MPI");
  if (fromEnv) return [fromEnv];
  if (Deno.build.os === "darwin") return ["libmpi.40.dylib", "libmpi.12.dylib", "libmpi.dylib"];
  return ["libmpi.so.40", "libmpi.so.12", "libmpi.so"];
}

function check(code: number, what: string): void {
  if (code !== 0) throw new Error(`MPI error: ${what} returned ${code}, expected 0 (MPI_SUCCESS)`);
}

/**
 * An MPI handle: Open MPI's are the addresses of exported structs, MPICH's integer constants. The
 * two symbol tables above declare each call's handle parameters accordingly.
 */
type Handle = Deno.PointerValue | number;

/** The calls of either symbol table, with the handle parameters left to the flavour. */
interface MpiCalls {
  MPI_Initialized(flag: Int32Array): number;
  MPI_Init(argc: null, argv: null): number;
  MPI_Finalized(flag: Int32Array): number;
  MPI_Finalize(): number;
  MPI_Comm_rank(comm: Handle, rank: Int32Array): number;
  MPI_Comm_size(comm: Handle, size: Int32Array): number;
  MPI_Allreduce(
    send: Float32Array,
    recv: Float32Array,
    count: number,
    type: Handle,
    op: Handle,
    comm: Handle,
  ): number;
  MPI_Bcast(buffer: Float32Array, count: number, type: Handle, root: number, comm: Handle): number;
  MPI_Allgather(
    send: Float32Array,
    sendCount: number,
    sendType: Handle,
    recv: Float32Array,
    recvCount: number,
    recvType: Handle,
    comm: Handle,
  ): number;
  MPI_Barrier(comm: Handle): number;
  MPI_Abort(comm: Handle, code: number): number;
}

/** The collectives over one loaded library, whichever handle convention it uses. */
function bindMpi(
  path: string,
  flavor: MpiLibrary["flavor"],
  s: MpiCalls,
  comm: Handle,
  float: Handle,
  sum: Handle,
): MpiLibrary {
  const int = new Int32Array(1);
  return {
    path,
    flavor,
    init() {
      check(s.MPI_Initialized(int), "MPI_Initialized");
      if (int[0] === 0) check(s.MPI_Init(null, null), "MPI_Init");
    },
    finalize() {
      check(s.MPI_Finalized(int), "MPI_Finalized");
      if (int[0] === 0) check(s.MPI_Finalize(), "MPI_Finalize");
    },
    rank() {
      check(s.MPI_Comm_rank(comm, int), "MPI_Comm_rank");
      return int[0];
    },
    size() {
      check(s.MPI_Comm_size(comm, int), "MPI_Comm_size");
      return int[0];
    },
    allreduceSum(send, recv) {
      check(s.MPI_Allreduce(send, recv, send.length, float, sum, comm), "MPI_Allreduce");
    },
    broadcast(buffer, root) {
      check(s.MPI_Bcast(buffer, buffer.length, float, root, comm), "MPI_Bcast");
    },
    allGather(send, recv) {
      check(
        s.MPI_Allgather(send, send.length, float, recv, send.length, float, comm),
        "MPI_Allgather",
      );
    },
    barrier() {
      check(s.MPI_Barrier(comm), "MPI_Barrier");
    },
    abort(code) {
      s.MPI_Abort(comm, code);
    },
  };
}

function openMpi(path: string): MpiLibrary {
  const s = Deno.dlopen(path, OMPI_SYMBOLS).symbols;
  const calls = s as unknown as MpiCalls; // pointer handles, as OMPI_SYMBOLS declares them
  return bindMpi(
    path,
    "open-mpi",
    calls,
    s.ompi_mpi_comm_world,
    s.ompi_mpi_float,
    s.ompi_mpi_op_sum,
  );
}

function mpich(path: string): MpiLibrary {
  const calls = Deno.dlopen(path, MPICH_SYMBOLS).symbols as unknown as MpiCalls; // i32 handles
  return bindMpi(path, "mpich", calls, MPICH_COMM_WORLD, MPICH_FLOAT, MPICH_SUM);
}

let loaded: MpiLibrary | null = null;

/**
 * Loads the first MPI library found (once per process): Open MPI's symbols are tried first on
 * each candidate, then the MPICH ABI's.
 *
 * @throws {MpiUnavailableError} without `--allow-ffi` or when no MPI library loads
 */
export function loadMpi(): MpiLibrary {
  if (loaded) return loaded;
  if (typeof Deno?.dlopen !== "function") {
    throw new MpiUnavailableError("Cannot use MPI: Deno.dlopen is missing (not running in Deno)");
  }
  const errors: string[] = [];
  for (const name of mpiCandidates()) {
    for (const open of [openMpi, mpich]) {
      try {
        loaded = open(name);
        return loaded;
      } catch (e) {
        if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
          throw new MpiUnavailableError(
            "Cannot use MPI: loading it needs --allow-ffi (run with deno run -A)",
          );
        }
        errors.push(
          `${name} (${open === openMpi ? "Open MPI" : "MPICH"}): ${
            (e as Error).message.split("\n")[0]
          }`,
        );
      }
    }
  }
  throw new MpiUnavailableError(
    `Cannot use MPI: no MPI library could be loaded; install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3) or set SELFSUP_MPI to a libmpi path. Tried: ${
      errors.join("; ")
    }`,
  );
}

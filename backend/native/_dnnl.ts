/**
 * oneDNN primitives through Deno FFI: the library, one CPU engine and stream per process, memory
 * descriptors, primitive descriptors and primitives, execution over Float32Arrays (zero-copy), a
 * per-shape primitive cache, and statuses turned into errors that name the call.
 *
 * Only the oneDNN 2.x C API is bound (Debian's `libdnnl2` is 2.6): there `dnnl_memory_desc_t` and
 * the op descriptors are structs the caller allocates, which this file does as byte arrays. oneDNN
 * 3 replaced them with opaque handles and `*_primitive_desc_create` functions; a v3 library is
 * detected and refused with a clear {@linkcode DnnlUnavailableError} (callers then keep their
 * non-primitive kernels).
 *
 * Usage, e.g. a softmax primitive in another file (a fragment: `n`, `c`, `x`, `y` are the caller's):
 * ```ts ignore
 * import { ARG, dnnlOrUndefined, PROP, TAG } from "./_dnnl.ts";
 * const d = dnnlOrUndefined(); // undefined without oneDNN 2.x: fall back
 * if (d) {
 *   const p = d.cached(`softmax ${n} ${c}`, () => {
 *     const md = d.memoryDesc([n, c], TAG.ab);
 *     const op = d.opDesc();
 *     d.check(d.symbols.dnnl_softmax_forward_desc_init(op, PROP.forwardTraining, md, 1),
 *       "dnnl_softmax_forward_desc_init");
 *     return d.primitive(op); // pd + primitive; optional attr and forward hint
 *   });
 *   p.execute({ [ARG.src]: x, [ARG.dst]: y }); // Float32Arrays in the pd's layouts
 * }
 * ```
 * Every symbol of the 2.x API that a selfsup kernel may need is declared in `SYMBOLS` (optional, so
 * a library without one still loads); add one there when you need it. Primitives are cached for
 * the life of the process, keyed by the caller's string (put every shape and attribute in it).
 *
 * @module
 */
import { BackendUnavailableError } from "../errors.ts";
import { setOpenMpWaitPolicy } from "./_blas.ts";

/** `sizeof(dnnl_memory_desc_t)` in oneDNN 2.x on 64-bit targets (gcc on 2.6.3: 696). */
export const MEMORY_DESC_BYTES = 696;
/** Offsets inside `dnnl_memory_desc_t` (2.6.3): `int ndims` at 0, `dnnl_data_type_t` at 104. */
const MD_NDIMS_OFFSET = 0;
const MD_DATA_TYPE_OFFSET = 104;
/**
 * Bytes for any op descriptor (`dnnl_convolution_desc_t` is the largest bound here, 5976 bytes in
 * 2.6.3; batch norm 3496, pooling v2 3288, softmax v2 2800, binary 2096, eltwise 1416).
 */
export const OP_DESC_BYTES = 8192;
/** `DNNL_MAX_NDIMS`: dims arrays are `int64_t[12]`. */
const MAX_NDIMS = 12;
/** `sizeof(dnnl_exec_arg_t)`: `{ int arg; dnnl_memory_t memory; }`, the pointer at offset 8. */
const EXEC_ARG_BYTES = 16;

/** `dnnl_data_type_t`. */
export const DT = { f32: 3 } as const;

/** `dnnl_format_tag_t` values (2.6.3). Logical dims are always `abcd...` = N, C, H, W / O, I, H, W. */
export const TAG = {
  any: 1,
  a: 2,
  ab: 3,
  abc: 4,
  abcd: 5,
  abcde: 7,
  acb: 17,
  /** NHWC activations (logical NCHW). */
  acdb: 20,
  ba: 10,
  /** tfjs's conv filter `[KH, KW, I, O]` (logical OIHW), `hwio`. */
  cdba: 30,
} as const;

/** `dnnl_prop_kind_t`. */
export const PROP = {
  forwardTraining: 64,
  forwardInference: 96,
  backward: 128,
  backwardData: 160,
  backwardWeights: 192,
  backwardBias: 193,
} as const;

/** `dnnl_alg_kind_t`. */
export const ALG = {
  convolutionDirect: 1,
  convolutionAuto: 3,
  eltwiseRelu: 31,
  eltwiseTanh: 47,
  eltwiseElu: 63,
  eltwiseSquare: 79,
  eltwiseLinear: 127,
  eltwiseLogistic: 175,
  eltwiseExp: 191,
  eltwiseLog: 239,
  eltwiseClip: 255,
  poolingMax: 511,
  poolingAvgIncludePadding: 767,
  poolingAvgExcludePadding: 1023,
  binaryAdd: 131056,
  binaryMul: 131057,
  binaryMax: 131058,
  binaryDiv: 131060,
  binarySub: 131061,
  reductionMax: 196594,
  reductionSum: 196596,
  reductionMean: 196598,
  softmaxAccurate: 196608,
  softmaxLog: 196609,
} as const;

/** `DNNL_ARG_*` execution argument ids. */
export const ARG = {
  src: 1,
  src1: 2,
  dst: 17,
  weights: 33,
  bias: 41,
  mean: 49,
  variance: 50,
  scale: 51,
  shift: 52,
  workspace: 64,
  scratchpad: 80,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  diffBias: 169,
  diffScale: 255,
  diffShift: 256,
  /** `DNNL_ARG_MULTIPLE_SRC + i` for the sum primitive's i-th input. */
  multipleSrc: 1024,
} as const;

/** Batch-normalization flags (`dnnl_normalization_flags_t`). */
export const BN_FLAGS = {
  useGlobalStats: 0x1,
  fuseNormRelu: 0x4,
  useScale: 0x8,
  useShift: 0x10,
} as const;

/** `dnnl_query_t` values used here. */
const QUERY = { implInfoStr: 8, execArgMd: 255 } as const;

const STATUS = [
  "success",
  "out_of_memory",
  "invalid_arguments",
  "unimplemented",
  "iterator_ends",
  "runtime_error",
  "not_required",
];

function F<
  const P extends readonly Deno.NativeType[],
  const R extends Deno.NativeResultType = "i32",
>(parameters: P, result: R = "i32" as R) {
  return { parameters, result, optional: true as const };
}

/** The 2.x C API symbols (all optional: a missing one is `null` and reported when used). */
const SYMBOLS = {
  dnnl_version: F([], "pointer"),
  dnnl_engine_create: F(["buffer", "i32", "usize"]),
  dnnl_stream_create: F(["buffer", "pointer", "u32"]),
  dnnl_stream_wait: F(["pointer"]),
  dnnl_memory_desc_init_by_tag: F(["buffer", "i32", "buffer", "i32", "i32"]),
  dnnl_memory_desc_init_by_strides: F(["buffer", "i32", "buffer", "i32", "buffer"]),
  dnnl_memory_desc_get_size: F(["pointer"], "usize"),
  dnnl_memory_desc_equal: F(["pointer", "pointer"]),
  dnnl_memory_create: F(["buffer", "pointer", "pointer", "pointer"]),
  dnnl_memory_set_data_handle: F(["pointer", "pointer"]),
  dnnl_memory_destroy: F(["pointer"]),
  dnnl_primitive_attr_create: F(["buffer"]),
  dnnl_primitive_attr_destroy: F(["pointer"]),
  dnnl_primitive_attr_set_post_ops: F(["pointer", "pointer"]),
  dnnl_post_ops_create: F(["buffer"]),
  dnnl_post_ops_destroy: F(["pointer"]),
  dnnl_post_ops_append_eltwise: F(["pointer", "f32", "i32", "f32", "f32"]),
  dnnl_post_ops_append_sum: F(["pointer", "f32"]),
  dnnl_primitive_desc_create: F(["buffer", "buffer", "pointer", "pointer", "pointer"]),
  dnnl_primitive_desc_destroy: F(["pointer"]),
  dnnl_primitive_desc_query: F(["pointer", "i32", "i32", "buffer"]),
  dnnl_primitive_desc_query_md: F(["pointer", "i32", "i32"], "pointer"),
  dnnl_primitive_create: F(["buffer", "pointer"]),
  dnnl_primitive_execute: F(["pointer", "pointer", "i32", "buffer"]),
  dnnl_primitive_destroy: F(["pointer"]),
  dnnl_reorder_primitive_desc_create: F([
    "buffer",
    "pointer",
    "pointer",
    "pointer",
    "pointer",
    "pointer",
  ]),
  dnnl_sum_primitive_desc_create: F([
    "buffer",
    "buffer",
    "i32",
    "buffer",
    "buffer",
    "pointer",
    "pointer",
  ]),
  dnnl_binary_desc_init: F(["buffer", "i32", "buffer", "buffer", "buffer"]),
  dnnl_convolution_forward_desc_init: F([
    "buffer", // conv_desc
    "i32", // prop_kind
    "i32", // alg_kind
    "buffer", // src_desc
    "buffer", // weights_desc
    "buffer", // bias_desc (null pointer allowed: pass null)
    "buffer", // dst_desc
    "buffer", // strides
    "buffer", // padding_l
    "buffer", // padding_r
  ]),
  dnnl_dilated_convolution_forward_desc_init: F([
    "buffer",
    "i32",
    "i32",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer", // strides
    "buffer", // dilates (0 = none)
    "buffer",
    "buffer",
  ]),
  dnnl_dilated_convolution_backward_data_desc_init: F([
    "buffer",
    "i32",
    "buffer", // diff_src
    "buffer", // weights
    "buffer", // diff_dst
    "buffer",
    "buffer",
    "buffer",
    "buffer",
  ]),
  dnnl_dilated_convolution_backward_weights_desc_init: F([
    "buffer",
    "i32",
    "buffer", // src
    "buffer", // diff_weights
    "buffer", // diff_bias (null allowed)
    "buffer", // diff_dst
    "buffer",
    "buffer",
    "buffer",
    "buffer",
  ]),
  dnnl_eltwise_forward_desc_init: F(["buffer", "i32", "i32", "buffer", "f32", "f32"]),
  dnnl_eltwise_backward_desc_init: F(["buffer", "i32", "buffer", "buffer", "f32", "f32"]),
  dnnl_pooling_v2_forward_desc_init: F([
    "buffer",
    "i32",
    "i32",
    "buffer", // src
    "buffer", // dst
    "buffer", // strides
    "buffer", // kernel
    "buffer", // dilation
    "buffer",
    "buffer",
  ]),
  dnnl_pooling_v2_backward_desc_init: F([
    "buffer",
    "i32",
    "buffer", // diff_src
    "buffer", // diff_dst
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
  ]),
  dnnl_batch_normalization_forward_desc_init: F(["buffer", "i32", "buffer", "f32", "u32"]),
  dnnl_batch_normalization_backward_desc_init: F([
    "buffer",
    "i32",
    "buffer",
    "buffer",
    "f32",
    "u32",
  ]),
  dnnl_softmax_forward_desc_init: F(["buffer", "i32", "buffer", "i32"]),
  dnnl_softmax_backward_desc_init: F(["buffer", "buffer", "buffer", "i32"]),
  dnnl_softmax_v2_forward_desc_init: F(["buffer", "i32", "i32", "buffer", "buffer", "i32"]),
  dnnl_softmax_v2_backward_desc_init: F(["buffer", "i32", "buffer", "buffer", "buffer", "i32"]),
  dnnl_logsoftmax_forward_desc_init: F(["buffer", "i32", "buffer", "i32"]),
  dnnl_logsoftmax_backward_desc_init: F(["buffer", "buffer", "buffer", "i32"]),
  dnnl_reduction_desc_init: F(["buffer", "i32", "buffer", "buffer", "f32", "f32"]),
  dnnl_matmul_desc_init: F(["buffer", "buffer", "buffer", "buffer", "buffer"]),
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
/** The bound functions; optional ones are typed non-null, {@linkcode Dnnl.check} reports a missing one. */
export type DnnlSymbols = { [K in keyof Symbols]: NonNullable<Symbols[K]> };

/** A memory descriptor: the caller-owned `dnnl_memory_desc_t` struct. */
export type MemoryDesc = Uint8Array<ArrayBuffer>;

/** Why a oneDNN call failed: the call, its status name, and what was asked. */
export class DnnlError extends Error {
  /** The `dnnl_status_t` value. */
  status: number;
  constructor(call: string, status: number, detail = "") {
    super(
      `Cannot run oneDNN ${call}: expected status success, received ${STATUS[status] ?? status}${
        detail ? ` (${detail})` : ""
      }`,
    );
    this.name = "DnnlError";
    this.status = status;
  }
}

/** A primitive with one memory object per argument; `execute` binds arrays zero-copy. */
export interface Primitive {
  /** `dnnl_primitive_desc_t`, owned by this object (hint for backward primitives). */
  pd: Deno.PointerValue;
  /** The implementation oneDNN picked, e.g. `brgconv:avx512_core` (`dnnl_query_impl_info_str`). */
  impl: string;
  /** The memory descriptor the primitive expects for `arg` (a pointer into the pd), or null. */
  argMd(arg: number): Deno.PointerValue;
  /** Bytes the primitive expects for `arg` (0 when it takes no such argument). */
  argBytes(arg: number): number;
  /**
   * Runs the primitive on the given arrays, each in the layout of {@linkcode argMd} (for
   * explicit tags that is the caller's layout). Synchronous: returns when the outputs are written.
   */
  execute(args: Record<number, ArrayBufferView | undefined>): void;
}

/** A loaded oneDNN 2.x with its CPU engine and stream. */
export interface Dnnl {
  library: string;
  version: { major: number; minor: number; patch: number };
  symbols: DnnlSymbols;
  engine: Deno.PointerValue;
  stream: Deno.PointerValue;
  /** Throws {@linkcode DnnlError} unless `status` is success. */
  check(status: number, call: string, detail?: string): void;
  /** A memory descriptor of float32 `dims` in format `tag` ({@linkcode TAG}). */
  memoryDesc(dims: readonly number[], tag: number): MemoryDesc;
  /** A memory descriptor of float32 `dims` with element `strides`. */
  memoryDescStrides(dims: readonly number[], strides: readonly number[]): MemoryDesc;
  /** An `int64_t[12]` dims array (strides, paddings, kernels) for the desc-init functions. */
  dims(values: readonly number[]): BigInt64Array<ArrayBuffer>;
  /** A zeroed buffer for any op descriptor (`dnnl_*_desc_t`). */
  opDesc(): Uint8Array<ArrayBuffer>;
  /**
   * Creates the primitive descriptor and primitive for an initialized op descriptor.
   * @param options.attr `dnnl_primitive_attr_t` (e.g. from {@linkcode Dnnl.postOpsAttr}), not kept
   * @param options.hint the forward primitive a backward one needs
   */
  primitive(
    opDesc: Uint8Array,
    options?: { attr?: Deno.PointerValue; hint?: Primitive; what?: string },
  ): Primitive;
  /** A primitive for an already created `dnnl_primitive_desc_t` (reorder, sum); takes ownership. */
  primitiveFromPd(pd: Deno.PointerValue, what: string): Primitive;
  /** A reorder between two memory descriptors (`attr`, e.g. a sum post-op, is not kept). */
  reorder(
    from: MemoryDesc | Deno.PointerValue,
    to: MemoryDesc | Deno.PointerValue,
    attr?: Deno.PointerValue,
  ): Primitive;
  /**
   * Attributes with eltwise post-ops `[alg, alpha, beta][]` (e.g. `[[ALG.eltwiseRelu, 0, 0]]`)
   * and, when `sum` is given, a sum post-op `dst = result + sum·dst` before them (after them with
   * `sumLast`: `dst = op(result) + sum·dst`); the caller destroys them with
   * `symbols.dnnl_primitive_attr_destroy` after `primitive()`.
   */
  postOpsAttr(
    ops: readonly [number, number, number][],
    sum?: number,
    sumLast?: boolean,
  ): Deno.PointerValue;
  /** The cached primitive under `key`, built once by `build`. */
  cached(key: string, build: () => Primitive): Primitive;
  /** Primitives in the cache. */
  cacheSize(): number;
}

/** The library names tried: `SELFSUP_DNNL` alone when set, else the platform's oneDNN names. */
export function dnnlCandidates(): string[] {
  const fromEnv = env("SELFSUP_DNNL");
  if (fromEnv) return [fromEnv];
  if (Deno.build.os === "darwin") return ["libdnnl.2.dylib", "libdnnl.dylib", "libdnnl.3.dylib"];
  if (Deno.build.os === "windows") return ["dnnl.dll"];
  return ["libdnnl.so.2", "libdnnl.so", "libdnnl.so.3"];
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function ptrOut(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

function ptrOf(out: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(out[0]);
}

let loaded: Dnnl | undefined;
let failure: Error | undefined;

/**
 * Loads oneDNN 2.x once per process, with one CPU engine and stream.
 * @throws {BackendUnavailableError} without `--allow-ffi`, without the library, or for oneDNN 3
 */
export function loadDnnl(): Dnnl {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    return loaded = open();
  } catch (error) {
    failure = error as Error;
    throw error;
  }
}

/**
 * oneDNN when it loads, else `undefined` (the reason is kept: {@linkcode loadDnnl} rethrows it).
 * `SELFSUP_DNNL_PRIMITIVES=0` turns the primitives off (the native backend then keeps its sgemm
 * kernels), for comparisons.
 */
export function dnnlOrUndefined(): Dnnl | undefined {
  if (!enabled) return undefined;
  try {
    return loadDnnl();
  } catch {
    return undefined;
  }
}

let enabled = env("SELFSUP_DNNL_PRIMITIVES") !== "0";

/**
 * Turns the native kernels' use of oneDNN primitives on or off for this process (benches compare
 * both in one run); returns the previous setting.
 */
export function setDnnlPrimitives(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

function open(): Dnnl {
  if (typeof Deno?.dlopen !== "function") {
    throw new BackendUnavailableError("native", "Deno.dlopen is missing (not running in Deno)");
  }
  const failures: string[] = [];
  let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  let library = "";
  setOpenMpWaitPolicy(); // before libgomp loads with oneDNN
  for (const name of dnnlCandidates()) {
    try {
      lib = Deno.dlopen(name, SYMBOLS);
      library = name;
      break;
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw new BackendUnavailableError(
          "native",
          "FFI permission is not granted (run Deno with --allow-ffi, or -A)",
        );
      }
      failures.push(`${name}: ${String(error).split("\n")[0]}`);
    }
  }
  if (!lib) {
    throw new BackendUnavailableError(
      "native",
      `oneDNN could not be loaded (${failures.join("; ")}); install libdnnl2`,
    );
  }
  const s = lib.symbols as DnnlSymbols;
  if (!s.dnnl_version) {
    throw new BackendUnavailableError("native", `${library} exports no dnnl_version`);
  }
  const v = new Deno.UnsafePointerView(s.dnnl_version()!);
  const version = { major: v.getInt32(0), minor: v.getInt32(4), patch: v.getInt32(8) };
  if (version.major !== 2) {
    throw new BackendUnavailableError(
      "native",
      `oneDNN primitives need the 2.x C API, received ${library} version ${version.major}.${version.minor}.${version.patch} ` +
        "(v3 replaced the op descriptors; the native backend keeps its sgemm kernels)",
    );
  }
  const check = (status: number, call: string, detail?: string) => {
    if (status !== 0) throw new DnnlError(call, status, detail);
  };
  const need = (name: keyof DnnlSymbols) => {
    if (!s[name]) {
      throw new BackendUnavailableError("native", `${library} does not export ${name}`);
    }
  };
  for (
    const name of [
      "dnnl_engine_create",
      "dnnl_stream_create",
      "dnnl_memory_desc_init_by_tag",
      "dnnl_memory_desc_get_size",
      "dnnl_memory_create",
      "dnnl_memory_set_data_handle",
      "dnnl_primitive_desc_create",
      "dnnl_primitive_desc_query_md",
      "dnnl_primitive_create",
      "dnnl_primitive_execute",
    ] as const
  ) need(name);

  const out = ptrOut();
  check(s.dnnl_engine_create(out, 1, /* dnnl_cpu */ 0n), "dnnl_engine_create");
  const engine = ptrOf(out);
  check(s.dnnl_stream_create(out, engine, 1 /* default flags */), "dnnl_stream_create");
  const stream = ptrOf(out);

  const dims = (values: readonly number[]) => {
    if (values.length > MAX_NDIMS) {
      throw new RangeError(
        `Cannot describe oneDNN dims: expected at most 12, received ${values.length}`,
      );
    }
    const a = new BigInt64Array(MAX_NDIMS);
    values.forEach((x, i) => (a[i] = BigInt(x)));
    return a;
  };
  const memoryDesc = (shape: readonly number[], tag: number) => {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(
      s.dnnl_memory_desc_init_by_tag(md, shape.length, dims(shape), DT.f32, tag),
      "dnnl_memory_desc_init_by_tag",
      `dims [${shape}] tag ${tag}`,
    );
    return md;
  };
  const memoryDescStrides = (shape: readonly number[], strides: readonly number[]) => {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(
      s.dnnl_memory_desc_init_by_strides(md, shape.length, dims(shape), DT.f32, dims(strides)),
      "dnnl_memory_desc_init_by_strides",
      `dims [${shape}] strides [${strides}]`,
    );
    return md;
  };
  selfCheck(s, dims);

  const mdPtr = (md: MemoryDesc | Deno.PointerValue): Deno.PointerValue =>
    md instanceof Uint8Array ? Deno.UnsafePointer.of(md) : md;

  const wrap = (pd: Deno.PointerValue, what: string): Primitive => {
    const primOut = ptrOut();
    check(s.dnnl_primitive_create(primOut, pd), "dnnl_primitive_create", what);
    const prim = ptrOf(primOut);
    const info = new BigUint64Array(1);
    let impl = "";
    if (s.dnnl_primitive_desc_query(pd, QUERY.implInfoStr, 0, info) === 0 && info[0] !== 0n) {
      impl = new Deno.UnsafePointerView(Deno.UnsafePointer.create(info[0])!).getCString();
    }
    const memories = new Map<number, Deno.PointerValue>();
    const memoryFor = (arg: number) => {
      let mem = memories.get(arg);
      if (mem === undefined) {
        const md = s.dnnl_primitive_desc_query_md(pd, QUERY.execArgMd, arg);
        if (md === null) {
          throw new DnnlError("dnnl_primitive_execute", 2, `${what} takes no argument ${arg}`);
        }
        const memOut = ptrOut();
        check(
          s.dnnl_memory_create(memOut, md, engine, null),
          "dnnl_memory_create",
          `${what} argument ${arg}`,
        );
        mem = ptrOf(memOut);
        memories.set(arg, mem);
      }
      return mem;
    };
    return {
      pd,
      impl,
      argMd: (arg) => s.dnnl_primitive_desc_query_md(pd, QUERY.execArgMd, arg),
      argBytes(arg) {
        const md = s.dnnl_primitive_desc_query_md(pd, QUERY.execArgMd, arg);
        return md === null ? 0 : Number(s.dnnl_memory_desc_get_size(md));
      },
      execute(args) {
        const ids = Object.keys(args).map(Number).filter((k) => args[k] !== undefined);
        const table = new BigUint64Array(ids.length * (EXEC_ARG_BYTES / 8));
        for (let i = 0; i < ids.length; i++) {
          const mem = memoryFor(ids[i]);
          const array = args[ids[i]]!;
          check(
            s.dnnl_memory_set_data_handle(
              mem,
              Deno.UnsafePointer.of(array as ArrayBufferView<ArrayBuffer>),
            ),
            "dnnl_memory_set_data_handle",
            what,
          );
          table[2 * i] = BigInt(ids[i]); // int arg, little-endian, padding zero
          table[2 * i + 1] = BigInt(Deno.UnsafePointer.value(mem));
        }
        check(
          s.dnnl_primitive_execute(prim, stream, ids.length, table),
          "dnnl_primitive_execute",
          what,
        );
      },
    };
  };

  const primitive: Dnnl["primitive"] = (opDesc, options = {}) => {
    const what = options.what ?? "primitive";
    const pdOut = ptrOut();
    check(
      s.dnnl_primitive_desc_create(
        pdOut,
        opDesc,
        options.attr ?? null,
        engine,
        options.hint?.pd ?? null,
      ),
      "dnnl_primitive_desc_create",
      what,
    );
    return wrap(ptrOf(pdOut), what);
  };

  const cache = new Map<string, Primitive>();
  return loaded = {
    library,
    version,
    symbols: s,
    engine,
    stream,
    check,
    memoryDesc,
    memoryDescStrides,
    dims,
    opDesc: () => new Uint8Array(OP_DESC_BYTES),
    primitive,
    primitiveFromPd: wrap,
    reorder(from, to, attr) {
      const pdOut = ptrOut();
      check(
        s.dnnl_reorder_primitive_desc_create(
          pdOut,
          mdPtr(from),
          engine,
          mdPtr(to),
          engine,
          attr ?? null,
        ),
        "dnnl_reorder_primitive_desc_create",
      );
      return wrap(ptrOf(pdOut), "reorder");
    },
    postOpsAttr(ops, sum, sumLast = false) {
      const out = ptrOut();
      check(s.dnnl_post_ops_create(out), "dnnl_post_ops_create");
      const postOps = ptrOf(out);
      const appendSum = () => {
        if (sum === undefined) return;
        need("dnnl_post_ops_append_sum");
        check(s.dnnl_post_ops_append_sum(postOps, sum), "dnnl_post_ops_append_sum");
      };
      if (!sumLast) appendSum();
      for (const [alg, alpha, beta] of ops) {
        check(
          s.dnnl_post_ops_append_eltwise(postOps, 1, alg, alpha, beta),
          "dnnl_post_ops_append_eltwise",
        );
      }
      if (sumLast) appendSum();
      check(s.dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create");
      const attr = ptrOf(out);
      check(s.dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops");
      s.dnnl_post_ops_destroy(postOps); // the attribute keeps its own copy
      return attr;
    },
    cached(key, build) {
      let p = cache.get(key);
      if (!p) {
        p = build();
        cache.set(key, p);
      }
      return p;
    },
    cacheSize: () => cache.size,
  };
}

/**
 * Checks the hard-coded struct layout against the library: `dnnl_memory_desc_init_by_tag` must
 * write `ndims` and the data type where 2.6.3's header puts them, and nothing past
 * {@linkcode MEMORY_DESC_BYTES}.
 */
function selfCheck(s: DnnlSymbols, dims: (v: readonly number[]) => BigInt64Array<ArrayBuffer>) {
  const guard = 256;
  const buf = new Uint8Array(MEMORY_DESC_BYTES + guard).fill(0xa5);
  const status = s.dnnl_memory_desc_init_by_tag(buf, 4, dims([2, 3, 5, 7]), DT.f32, TAG.acdb);
  const view = new DataView(buf.buffer);
  const ok = status === 0 && view.getInt32(MD_NDIMS_OFFSET, true) === 4 &&
    view.getInt32(MD_DATA_TYPE_OFFSET, true) === DT.f32 &&
    buf.subarray(MEMORY_DESC_BYTES).every((b) => b === 0xa5) &&
    Number(s.dnnl_memory_desc_get_size(Deno.UnsafePointer.of(buf))) === 2 * 3 * 5 * 7 * 4;
  if (!ok) {
    throw new BackendUnavailableError(
      "native",
      "this oneDNN's dnnl_memory_desc_t does not match the 2.6 layout selfsup was written for " +
        `(${MEMORY_DESC_BYTES} bytes, ndims at 0, data_type at 104)`,
    );
  }
}

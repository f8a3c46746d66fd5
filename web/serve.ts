/**
 * `deno task web`: serves web/'s page, where a person draws a digit and sees its nearest MNIST
 * test images under an exported encoder (a run folder's `encoder/`, or any folder `exportEncoder`
 * wrote). Plain TensorFlow.js comes from the installed npm package: nothing is fetched from the
 * internet.
 *
 * ```sh
 * deno task web --encoder runs/<name> [--port 8000] [--bank 2000]
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { mnist } from "../data/mnist.ts";
import { type OptionSpec, runCommand, UsageError } from "../cli/_args.ts";

/** Options for {@linkcode serveWeb}. */
export interface ServeWebOptions {
  /** A folder with the encoder's `model.json` and `weights.bin`, or a run folder (its `encoder/`). */
  encoder: string;
  /** The address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** How many MNIST test images the page searches. @default 2000 */
  bank?: number;
}

const WEB = dirname(fileURLToPath(import.meta.url));

/** The file of plain TensorFlow.js's browser bundle in the installed npm package. */
async function tfjsBundle(): Promise<string> {
  await import("@tensorflow/tfjs/package.json", { with: { type: "json" } });
  return fileURLToPath(import.meta.resolve("@tensorflow/tfjs/dist/tf.min.js"));
}

async function encoderDir(path: string): Promise<string> {
  for (const dir of [path, join(path, "encoder")]) {
    try {
      await Deno.stat(join(dir, "model.json"));
      return dir;
    } catch { /* next */ }
  }
  throw new Deno.errors.NotFound(`no model.json in ${path} or ${join(path, "encoder")}`);
}

/** What the page says about the encoder it uses (`/about.json`). */
export interface EncoderAbout {
  /** The folder given to `--encoder`. */
  encoder: string;
  /** The method of the run the encoder came from; null without a run's `config.json` beside it. */
  method: string | null;
  /** The run's training steps (its config.json's), when known. */
  steps: number | null;
}

/**
 * Reads what the run folder around the encoder says: `config.json` next to `encoder/` (written by
 * `train()`: `method`, `train.steps`; by `deno task pretrain`: `options.method`, `resolved.steps`).
 * A bare encoder folder, or one whose run record is unreadable, gives `method: null`.
 */
export async function encoderAbout(given: string, dir: string): Promise<EncoderAbout> {
  const unknown = { encoder: given, method: null, steps: null };
  if (!/(^|[\\/])encoder[\\/]?$/.test(dir)) return unknown;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await Deno.readTextFile(join(dirname(dir), "config.json")));
  } catch {
    return unknown;
  }
  const at = (...keys: string[]) =>
    keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);
  const method = at("method") ?? at("options", "method");
  const steps = at("train", "steps") ?? at("resolved", "steps");
  return {
    encoder: given,
    method: typeof method === "string" ? method : null,
    steps: typeof steps === "number" ? steps : null,
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
};

/**
 * Serves the page, the encoder, tf.min.js and the first `bank` MNIST test images. Needs
 * `--allow-net`, `--allow-read`. Returns the server (`.addr` has the port; `.shutdown()` stops it).
 */
export async function serveWeb(options: ServeWebOptions): Promise<Deno.HttpServer<Deno.NetAddr>> {
  const { hostname = "127.0.0.1", port = 8000, bank = 2000 } = options;
  const dir = await encoderDir(options.encoder);
  const test = await mnist("test");
  const count = Math.min(bank, test.length);
  const [h, w] = test.shape;
  const files: Record<string, () => Promise<Uint8Array | string>> = {
    "/": () => Deno.readTextFile(join(WEB, "index.html")),
    "/index.html": () => Deno.readTextFile(join(WEB, "index.html")),
    "/app.js": () => Deno.readTextFile(join(WEB, "app.js")),
    "/tfjs/tf.min.js": async () => Deno.readFile(await tfjsBundle()),
    "/about.json": async () => JSON.stringify(await encoderAbout(options.encoder, dir)),
    "/mnist/meta.json": () => Promise.resolve(JSON.stringify({ count, height: h, width: w })),
    "/mnist/images.bin": () => Promise.resolve(test.images.slice(0, count * h * w)),
    "/mnist/labels.bin": () => Promise.resolve(test.labels.slice(0, count)),
  };
  return Deno.serve({ hostname, port, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    let body: (() => Promise<Uint8Array | string>) | undefined = files[path];
    if (!body && path.startsWith("/encoder/") && !path.includes("..")) {
      body = () => Deno.readFile(join(dir, path.slice("/encoder/".length)));
    }
    if (!body) return new Response("not found", { status: 404 });
    try {
      const data = await body();
      const ext = path === "/" ? ".html" : path.slice(path.lastIndexOf("."));
      return new Response(data as BodyInit, {
        headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/** Every option of `deno task web`, in `--help` order. */
export const WEB_OPTIONS: readonly OptionSpec[] = [
  {
    name: "encoder",
    type: "string",
    description: "a run folder or an encoder folder (model.json, weights.bin); required",
  },
  {
    name: "port",
    type: "integer",
    description: "port on 127.0.0.1 (0: a free one)",
    default: 8000,
    min: 0,
    max: 65535,
  },
  {
    name: "bank",
    type: "integer",
    description: "MNIST test images the page searches",
    default: 2000,
    min: 1,
  },
];

const USAGE = `Usage: deno task web --encoder <run folder or encoder folder> [options]

Serves a page where you draw a digit and see its nearest MNIST test images under the
encoder (http://127.0.0.1:<port>/).`;

/**
 * `deno task web` on `args`: serves until the server stops; exit 2 and one line for a bad flag,
 * a folder without an encoder or a port in use.
 *
 * @param args the command-line arguments
 * @param onServe called with the running server (tests stop it); by default it serves on
 * @returns the exit code
 */
export function webMain(
  args: string[],
  onServe: (server: Deno.HttpServer<Deno.NetAddr>) => Promise<void> = (s) => s.finished,
): Promise<number> {
  return runCommand(args, WEB_OPTIONS, USAGE, async (o) => {
    if (o.encoder === undefined) {
      throw new UsageError("--encoder is required: a run folder or an encoder folder");
    }
    const server = await serveWeb({
      encoder: o.encoder as string,
      port: o.port as number,
      bank: o.bank as number,
    });
    console.log(`open http://127.0.0.1:${server.addr.port}/`);
    await onServe(server);
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await webMain(Deno.args));
}

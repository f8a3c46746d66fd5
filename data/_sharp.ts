// sharp (libvips through Node-API/FFI) loaded on first use, so importing selfsup needs no
// permissions: a static `import sharp from "sharp"` asks for --allow-env, --allow-sys and
// --allow-ffi as soon as any module of data/ is imported.
import type sharpType from "sharp";
import { DatasetError } from "./dataset.ts";

/** The sharp constructor. */
export type Sharp = typeof sharpType;

let loaded: Promise<Sharp> | undefined;

/**
 * Loads sharp once per process. Needs `--allow-env --allow-read --allow-sys --allow-ffi`; throws a
 * {@linkcode DatasetError} naming the missing permission or package.
 */
export function loadSharp(): Promise<Sharp> {
  loaded ??= import("sharp").then(
    (m) => m.default,
    (cause) => {
      loaded = undefined;
      const message = String((cause as Error)?.message ?? cause).split("\n")[0];
      const permission = cause instanceof Deno.errors.NotCapable ||
        /Requires \w+ access|NotCapable|PermissionDenied/.test(message);
      throw new DatasetError(
        permission
          ? `Cannot load sharp (image decoding and rendering): ${message}; run with ` +
            "--allow-env --allow-read --allow-sys --allow-ffi (or -A)"
          : `Cannot load sharp (image decoding and rendering): ${message}; install its native ` +
            "binary with `deno install --allow-scripts=npm:sharp`",
        { cause },
      );
    },
  );
  return loaded;
}

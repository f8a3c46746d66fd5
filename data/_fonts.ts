// Font checks through fontconfig: a font that is not installed, or that lacks a glyph of the
// charset, is an error (Pango would silently fall back to another font).
import { DatasetError } from "./dataset.ts";

/** A font as the renderer uses it: the family Pango asks for and the file that pins it. */
export interface ResolvedFont {
  family: string;
  file: string;
}

const cache = new Map<string, { families: string[]; file: string; ranges: number[][] }>();

function run(cmd: string, args: string[]): string {
  let out: Deno.CommandOutput;
  try {
    out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  } catch (cause) {
    throw new DatasetError(
      `Cannot check fonts: running ${cmd} failed (${
        (cause as Error).message
      }); install fontconfig (apt-get install fontconfig) and grant --allow-run`,
      { cause },
    );
  }
  if (!out.success) {
    throw new DatasetError(
      `Cannot check fonts: ${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

function parseCharset(s: string): number[][] {
  return s.trim().split(/\s+/).filter(Boolean).map((r) => {
    const [a, b] = r.split("-");
    const lo = parseInt(a, 16);
    return [lo, b === undefined ? lo : parseInt(b, 16)];
  });
}

function query(key: string, byFile: boolean) {
  let hit = cache.get(key);
  if (!hit) {
    const fmt = "%{family}\\n%{file}\\n%{charset}\\n";
    const text = byFile
      ? run("fc-scan", ["--format", fmt, key])
      : run("fc-match", ["-f", fmt, key]);
    const [families = "", file = "", charset = ""] = text.split("\n");
    hit = {
      families: families.split(",").map((f) => f.trim()),
      file: file.trim(),
      ranges: parseCharset(charset),
    };
    cache.set(key, hit);
  }
  return hit;
}

/**
 * Resolves a family name (with `fc-match`) or a font file (with `fc-scan`) and checks that it
 * covers every character of `charset` (whitespace excepted). Throws a DatasetError otherwise.
 */
export function resolveFont(spec: string | { family?: string; file: string }, charset: string) {
  let family: string;
  let file: string;
  let ranges: number[][];
  if (typeof spec === "string") {
    const hit = query(spec, false);
    if (!hit.families.some((f) => f.toLowerCase() === spec.toLowerCase())) {
      throw new DatasetError(
        `Cannot use font "${spec}": it is not installed (fc-match resolved it to "${
          hit.families[0]
        }"); install it or pass { file } with a font file`,
      );
    }
    family = spec;
    file = hit.file;
    ranges = hit.ranges;
  } else {
    try {
      Deno.statSync(spec.file);
    } catch (cause) {
      throw new DatasetError(`Cannot use font file ${spec.file}: it does not exist`, { cause });
    }
    const hit = query(spec.file, true);
    if (!hit.families[0]) {
      throw new DatasetError(`Cannot use font file ${spec.file}: fc-scan found no font in it`);
    }
    if (spec.family && !hit.families.some((f) => f.toLowerCase() === spec.family!.toLowerCase())) {
      throw new DatasetError(
        `Cannot use font file ${spec.file}: expected family "${spec.family}", received "${
          hit.families.join(", ")
        }"`,
      );
    }
    family = spec.family ?? hit.families[0];
    file = spec.file;
    ranges = hit.ranges;
  }
  const missing: string[] = [];
  for (const ch of new Set(charset)) {
    if (/\s/.test(ch)) continue;
    const cp = ch.codePointAt(0)!;
    if (!ranges.some(([lo, hi]) => cp >= lo && cp <= hi)) missing.push(ch);
  }
  if (missing.length) {
    throw new DatasetError(
      `Cannot use font "${family}" (${file}): it has no glyph for ${missing.length} character(s) of the charset, e.g. ${
        JSON.stringify(missing.slice(0, 10).join(""))
      }`,
    );
  }
  return { family, file } satisfies ResolvedFont;
}

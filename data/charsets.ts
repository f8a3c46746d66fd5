/**
 * Built-in charsets for synthetic text lines.
 *
 * @module
 */

const CHINESE =
  "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后" +
  "能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又" +
  "定见只主没公从知使点业本把性应开它合因由些外政四社义平形相全表间样关各重新线内数正反明原利比或但质" +
  "气第向命变条结解问意建月系很情最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长" +
  "求老头基资边流路级少图山统接较组计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给" +
  "色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单" +
  "风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集" +
  "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素" +
  "技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查" +
  "江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";

/**
 * Charsets for {@linkcode syntheticTextLines}: `digits` (the default), `latin` (letters, digits,
 * space and light punctuation) and `chinese` (about 500 of the most frequent simplified
 * characters).
 *
 * @example
 * ```ts
 * import { CHARSETS } from "./charsets.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CHARSETS.digits, "0123456789");
 * assert.ok(CHARSETS.latin.includes("Q"));
 * ```
 */
export const CHARSETS: {
  readonly digits: string;
  readonly latin: string;
  readonly chinese: string;
} = {
  digits: "0123456789",
  latin: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-'",
  chinese: [...new Set(CHINESE)].join(""),
};

import sharp from "sharp";

function solid(color: string, size = 96) {
  return sharp({ create: { width: size, height: size, channels: 3, background: color } });
}

/** The held-out-style folder of issue 13: 12 decodable images in two classes, 6 bad ones. */
export async function badFolder(dir: string): Promise<void> {
  for (const [cls, color] of [["a", "#ff0000"], ["b", "#0000ff"]]) {
    await Deno.mkdir(`${dir}/${cls}`, { recursive: true });
    for (let i = 0; i < 6; i++) await solid(color, 16 + i).png().toFile(`${dir}/${cls}/${i}.png`);
  }
  const png = await solid("#123456", 48).png({ compressionLevel: 0 }).toBuffer();
  await Deno.writeFile(`${dir}/a/bad_truncated.png`, png.subarray(0, png.length >> 1));
  await Deno.writeFile(`${dir}/a/bad_empty.png`, new Uint8Array(0));
  await Deno.writeTextFile(`${dir}/b/bad_fake.jpg`, "not a jpeg");
  const jpeg = await solid("#00ff00", 48).jpeg().toBuffer();
  await Deno.writeFile(`${dir}/b/bad_truncated.jpg`, jpeg.subarray(0, jpeg.length - 40));
  const garbled = png.slice();
  garbled.fill(0x5a, 8, 40);
  await Deno.writeFile(`${dir}/b/bad_header.png`, garbled);
  // intact header and end marker, garbage pixel data: only a decode finds it
  const noisy = await sharp({
    create: {
      width: 48,
      height: 48,
      channels: 3,
      background: "#000000",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  }).png().toBuffer();
  const broken = noisy.slice();
  broken.fill(0x00, noisy.length >> 1, (noisy.length >> 1) + 200);
  await Deno.writeFile(`${dir}/a/bad_data.png`, broken);
  await Deno.writeTextFile(`${dir}/README.md`, "# my images\n");
  await Deno.writeTextFile(`${dir}/a/notes.txt`, "notes");
}

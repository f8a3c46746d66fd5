// The page of `deno task web`: draw a digit, see its nearest MNIST test images under an exported
// selfsup encoder. Plain TensorFlow.js (the global `tf` from /tfjs/tf.min.js), no build step.
// The test drives it through globalThis.selfsup (tests/web/browser_test.ts).
"use strict";

const K = 8;
const status = document.getElementById("status");
const pad = document.getElementById("pad");
const inputView = document.getElementById("input");
const list = document.getElementById("neighbours");

// Whose embeddings these are: a run's method and steps, or a warning that nothing says the
// encoder was trained (its neighbours then need not look alike).
function describe(about) {
  if (!about.method) {
    return `an encoder with no run record beside it (${about.encoder}): untrained or ` +
      "exported by hand, so its neighbours need not look alike";
  }
  const steps = about.steps === null ? "" : `, ${about.steps} steps`;
  return `the ${about.method} encoder of ${about.encoder}${steps}`;
}

async function start() {
  const backend = new URLSearchParams(location.search).get("backend");
  if (backend) await tf.setBackend(backend);
  await tf.ready();
  const model = await tf.loadLayersModel("/encoder/model.json");
  const [h, w, c] = model.inputs[0].shape.slice(1);
  const meta = await (await fetch("/mnist/meta.json")).json();
  const images = new Uint8Array(await (await fetch("/mnist/images.bin")).arrayBuffer());
  const labels = new Uint8Array(await (await fetch("/mnist/labels.bin")).arrayBuffer());
  if (meta.height !== h || meta.width !== w || c !== 1) {
    throw new Error(
      `the encoder takes [${h}, ${w}, ${c}], the bank is [${meta.height}, ${meta.width}, 1]`,
    );
  }
  const embed = (pixels, n) =>
    tf.tidy(() => {
      const x = tf.tensor4d(pixels, [n, h, w, c]);
      const z = model.predict(x);
      return z.div(z.norm("euclidean", 1, true).add(1e-12));
    });
  // The bank's unit embeddings, in chunks.
  const chunks = [];
  for (let i = 0; i < meta.count; i += 256) {
    const n = Math.min(256, meta.count - i);
    const px = Float32Array.from(images.subarray(i * h * w, (i + n) * h * w), (v) => v / 255);
    chunks.push(embed(px, n));
  }
  const bank = tf.concat(chunks);
  tf.dispose(chunks);
  const about = await (await fetch("/about.json")).json();
  status.textContent = `${meta.count} MNIST test images embedded on ${tf.getBackend()} by ${
    describe(about)
  }; draw a digit`;

  function neighbours(pixels) {
    return tf.tidy(() => {
      const q = embed(pixels, 1);
      const sims = tf.matMul(bank, q, false, true).reshape([-1]);
      const { values, indices } = tf.topk(sims, K);
      const s = values.dataSync(), idx = indices.dataSync();
      return Array.from(idx, (i, j) => ({ index: i, label: labels[i], similarity: s[j] }));
    });
  }

  function show(found) {
    list.textContent = "";
    for (const f of found) {
      const fig = document.createElement("figure");
      const cv = document.createElement("canvas");
      cv.width = w;
      cv.height = h;
      const img = cv.getContext("2d").createImageData(w, h);
      for (let p = 0; p < h * w; p++) {
        const v = images[f.index * h * w + p];
        img.data.set([v, v, v, 255], p * 4);
      }
      cv.getContext("2d").putImageData(img, 0, 0);
      const cap = document.createElement("figcaption");
      cap.textContent = `${f.label} · ${f.similarity.toFixed(3)}`;
      fig.append(cv, cap);
      list.append(fig);
    }
  }

  // The drawing as MNIST draws digits: the ink's bounding box scaled into 20x20, centred in 28x28.
  function toInput() {
    const ctx = pad.getContext("2d");
    const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4] > 0) {
          x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const side = Math.max(x1 - x0, y1 - y0) + 1;
    const box = (20 * h) / 28;
    const out = inputView.getContext("2d");
    out.fillStyle = "#000";
    out.fillRect(0, 0, w, h);
    out.imageSmoothingEnabled = true;
    const scale = box / side;
    const dw = (x1 - x0 + 1) * scale, dh = (y1 - y0 + 1) * scale;
    out.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (w - dw) / 2, (h - dh) / 2, dw, dh);
    const px = out.getImageData(0, 0, w, h).data;
    return Float32Array.from({ length: h * w }, (_, p) => px[p * 4] / 255);
  }

  function update() {
    const pixels = toInput();
    if (!pixels) return [];
    const found = neighbours(pixels);
    show(found);
    return found;
  }

  const ctx = pad.getContext("2d");
  function clear() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
    list.textContent = "";
  }
  clear();
  let drawing = false;
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    ctx.beginPath();
    ctx.moveTo(e.offsetX, e.offsetY);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 20;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineTo(e.offsetX, e.offsetY);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    update();
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointerleave", end);
  document.getElementById("clear").addEventListener("click", clear);

  return {
    backend: tf.getBackend(),
    // Embeddings of raw [n, h, w, c] pixels in [0, 1], unnormalized (the test compares with Deno).
    embed: (flat, n) =>
      tf.tidy(() => Array.from(model.predict(tf.tensor4d(flat, [n, h, w, c])).dataSync())),
    update,
  };
}

globalThis.selfsup = start().catch((e) => {
  status.textContent = `error: ${e.message}`;
  throw e;
});

// The arlens mirror page: camera -> JPEG over a WebSocket -> rendered, mirrored frames back. No build step.
// Newest frame wins on both sides: at most MAX_IN_FLIGHT frames are on their way to the server, and of the
// frames coming back only the newest is drawn. Works by touch alone (tabs, cards, arrows, swipe), and falls
// back to a photo upload when there is no camera or permission is denied.
"use strict";

const JPEG_QUALITY = 0.8;
const PHOTO_MAX_SIDE = 1280;    // an uploaded photo is scaled down to this before it is sent

const GLASSES = '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><g fill="none" ' +
  'stroke="#fff" stroke-width="1.8"><circle cx="7" cy="13" r="3.5"/><circle cx="17" cy="13" r="3.5"/>' +
  '<path d="M10.5 13h3M3.5 12 2 9M20.5 12 22 9"/></g></svg>';
const $ = (id) => document.getElementById(id);
const video = $("camera"), view = $("view"), ctx = view.getContext("2d");
const params = new URLSearchParams(location.search);
// Frames sent and not yet answered: 2 keeps the server busy (one rendering, one waiting), 1 is the least
// latency (?inflight=1|2|3 to choose; see benchmarks/bench_web.py).
const MAX_IN_FLIGHT = Math.max(1, Math.min(3, Number(params.get("inflight")) || 2));

const state = {
  ws: null, products: [], byKind: new Map(), kinds: [], worn: {}, focus: null,
  seq: 0, answered: 0, sentAt: new Map(), encoding: false, pending: null, mode: "camera",
  photo: null, retry: 0, cameraOK: false,
};
// Figures the tests and the latency benchmark read: per shown frame, capture -> on screen in ms.
const stats = window.arlensStats = { sent: 0, shown: 0, latencies: [], firstShownAt: null, lastShownAt: null,
  errors: [], buy: null, shared: null, lastFrame: null };

function status(text) { $("status").textContent = text || ""; }

// ---- catalog and controls -------------------------------------------------------------------------
async function loadProducts() {
  const res = await fetch("/v1/products?drawable=true");
  const body = await res.json();
  state.products = body.products;
  state.byKind = new Map();
  for (const p of state.products) {
    if (!state.byKind.has(p.kind)) state.byKind.set(p.kind, []);
    state.byKind.get(p.kind).push(p);
  }
  state.kinds = [...state.byKind.keys()];
  renderTabs();
}

function send(msg) { if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(msg)); }

function label(kind) { return kind.replace(/_/g, " "); }

function renderTabs() {
  const tabs = $("kinds");
  tabs.textContent = "";
  for (const kind of state.kinds) {
    const b = document.createElement("button");
    b.className = "tab"; b.type = "button"; b.role = "tab"; b.textContent = label(kind);
    b.dataset.kind = kind;
    b.setAttribute("aria-selected", String(kind === state.focus));
    b.addEventListener("click", () => { state.focus = kind; renderTabs(); renderCarousel(); send({ type: "focus", kind }); });
    tabs.appendChild(b);
  }
}

function renderCarousel() {
  const list = $("carousel");
  list.textContent = "";
  const kind = state.focus || state.kinds[0];
  if (!kind) return;
  const none = chip({ id: "", title: "None", price: null, color: null }, kind);
  list.appendChild(none);
  for (const p of state.byKind.get(kind) || []) list.appendChild(chip(p, kind));
  const on = list.querySelector('[aria-pressed="true"]');
  if (on) on.scrollIntoView({ block: "nearest", inline: "center" });
}

function chip(p, kind) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.className = "chip"; b.type = "button"; b.dataset.product = p.id;
  b.setAttribute("aria-pressed", String((state.worn[kind] || "") === p.id));
  const sw = document.createElement("span");
  sw.className = "swatch" + (p.id ? (p.color ? "" : " glyph") : " none");
  if (p.color) sw.style.background = p.color;
  else if (p.id) sw.innerHTML = kind === "eyewear" ? GLASSES : "";
  const text = document.createElement("span");
  const name = document.createElement("span"); name.className = "name"; name.textContent = p.title;
  text.appendChild(name);
  if (p.price) { const pr = document.createElement("span"); pr.className = "price"; pr.textContent = p.price.text; text.appendChild(pr); }
  b.append(sw, text);
  b.addEventListener("click", () => {
    if (p.id) send({ type: "select", product: p.id }); else send({ type: "remove", kind });
  });
  li.appendChild(b);
  return li;
}

function step(by) {
  const kind = state.focus || state.kinds[0];
  if (kind) send({ type: "step", kind, by });
  hide("qr-card");
}

function hide(id) { $(id).hidden = true; }

// ---- the socket -----------------------------------------------------------------------------------
function connect() {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const p of params.getAll("product")) url.searchParams.append("product", p);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onopen = () => { state.retry = 0; state.seq = 0; state.answered = 0; state.sentAt.clear();
    if (state.mode === "photo" && state.photo) sendPhoto(); };
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onText(JSON.parse(ev.data)) : onFrame(ev.data));
  ws.onclose = (ev) => {
    state.ws = null;
    const wait = Math.min(10000, 500 * 2 ** state.retry++);
    if (ev.code !== 1013) status(`Reconnecting…`);
    setTimeout(connect, wait);
  };
}

function onText(msg) {
  switch (msg.type) {
    case "state": {
      state.worn = msg.worn || {};
      if (msg.focus && state.focus !== msg.focus) state.focus = msg.focus;
      if (!state.focus) state.focus = state.kinds[0] || null;
      renderTabs(); renderCarousel();
      break;
    }
    case "buy": {
      stats.buy = msg;
      $("qr-img").src = msg.qr; $("qr-title").textContent = msg.title; $("qr-price").textContent = msg.price;
      $("qr-link").href = msg.click_link; $("qr-link").dataset.product = msg.product;
      $("qr-card").hidden = false; hide("shot-card");
      break;
    }
    case "snapshot": {
      $("shot-img").src = msg.image; $("save").href = msg.image;
      $("shot-share").hidden = true; $("share").disabled = false;
      $("shot-card").hidden = false; hide("qr-card");
      break;
    }
    case "shared": {
      stats.shared = msg;
      $("share-qr").src = msg.qr; $("share-link").href = msg.url; $("share-link").textContent = msg.url;
      $("shot-share").hidden = false; $("share").disabled = true;
      break;
    }
    case "busy": status(msg.message); break;
    case "error": stats.errors.push(msg.message); status(msg.message); setTimeout(() => status(""), 4000); break;
    default: break;
  }
}

function onFrame(buffer) {
  const dv = new DataView(buffer);
  const n = dv.getUint32(0, true);
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  if (typeof meta.seq === "number") {
    state.answered = Math.max(state.answered, meta.seq);
    meta.capturedAt = state.sentAt.get(meta.seq);
    for (const k of state.sentAt.keys()) if (k <= meta.seq) state.sentAt.delete(k);
  }
  const blob = new Blob([new Uint8Array(buffer, 4 + n)], { type: "image/jpeg" });
  createImageBitmap(blob).then((bitmap) => {
    if (state.pending) state.pending.bitmap.close();  // newest wins
    state.pending = { bitmap, meta };
    requestAnimationFrame(draw);
  }).catch(() => {});
  pump();
}

function draw() {
  const item = state.pending;
  if (!item) return;
  state.pending = null;
  const { bitmap, meta } = item;
  if (view.width !== bitmap.width || view.height !== bitmap.height) { view.width = bitmap.width; view.height = bitmap.height; }
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  view.classList.add("live");
  const now = performance.now();
  stats.shown++; stats.lastShownAt = now; stats.firstShownAt ??= now;
  stats.lastFrame = { faces: meta.faces, hands: meta.hands, hotspots: meta.hotspots, ms: meta.ms, server_ms: meta.server_ms };
  if (meta.capturedAt !== undefined) {
    stats.latencies.push(now - meta.capturedAt);
    if (stats.latencies.length > 2000) stats.latencies.splice(0, 1000);
  }
  if (state.mode === "camera" && $("status").textContent.startsWith("Starting")) status("");
}

// ---- sending frames -------------------------------------------------------------------------------
const grab = document.createElement("canvas"), gctx = grab.getContext("2d");
let latestCapture = null;   // {t} of the newest camera frame not yet sent

function pump() {
  if (state.mode !== "camera" || !latestCapture || state.encoding) return;
  const ws = state.ws;
  if (!ws || ws.readyState !== 1 || ws.bufferedAmount > 0) return;
  if (state.seq - state.answered >= MAX_IN_FLIGHT) return;
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return;
  const captured = latestCapture; latestCapture = null;
  if (grab.width !== w || grab.height !== h) { grab.width = w; grab.height = h; }
  gctx.drawImage(video, 0, 0, w, h);   // the camera's own, unmirrored frame: tracking runs on it
  state.encoding = true;
  grab.toBlob((blob) => {
    state.encoding = false;
    if (!blob || !state.ws || state.ws.readyState !== 1) return;
    const seq = ++state.seq;
    state.sentAt.set(seq, captured.t);
    sendBinary({ seq, t: captured.t, photo: false }, blob);
    stats.sent++;
  }, "image/jpeg", JPEG_QUALITY);
}

function sendBinary(header, blob) {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const len = new Uint8Array(4); new DataView(len.buffer).setUint32(0, head.length, true);
  state.ws.send(new Blob([len, head, blob]));
}

function onVideoFrame(now, metadata) {
  latestCapture = { t: metadata && metadata.captureTime ? metadata.captureTime : (metadata && metadata.presentationTime) || now };
  pump();
  video.requestVideoFrameCallback(onVideoFrame);
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return noCamera("This browser gives no camera here (it needs https or localhost).");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    video.srcObject = stream;
    await video.play();
    state.mode = "camera"; state.cameraOK = true;
    $("nocam").hidden = true;
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(onVideoFrame);
    else setInterval(() => { latestCapture = { t: performance.now() }; pump(); }, 33);
    status("Starting the camera…");
  } catch (err) {
    const denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
    const missing = err && (err.name === "NotFoundError" || err.name === "OverconstrainedError");
    noCamera(denied ? "Camera permission was denied." : missing ? "No camera was found." : `The camera could not start (${err && err.name}).`);
  }
}

function noCamera(reason) {
  state.mode = "photo";
  $("nocam-reason").textContent = reason + " You can try products on a photo instead.";
  $("nocam").hidden = false;
  status("");
}

async function sendPhoto() {
  if (!state.photo || !state.ws || state.ws.readyState !== 1) return;
  sendBinary({ seq: ++state.seq, t: performance.now(), photo: true }, state.photo);
}

async function loadPhoto(file) {
  const bitmap = await createImageBitmap(file);
  const s = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const c = document.createElement("canvas");
  c.width = Math.round(bitmap.width * s); c.height = Math.round(bitmap.height * s);
  c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height);
  bitmap.close();
  state.photo = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.9));
  $("nocam").hidden = true;
  sendPhoto();
}

// ---- input: touch first ---------------------------------------------------------------------------
$("prev").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
$("buy").addEventListener("click", () => send({ type: "buy" }));
$("snap").addEventListener("click", () => {
  $("flash").classList.add("on"); setTimeout(() => $("flash").classList.remove("on"), 60);
  send({ type: "snapshot" });
});
$("share").addEventListener("click", () => { $("share").disabled = true; send({ type: "share" }); });
$("qr-link").addEventListener("click", (e) => send({ type: "click", product: e.currentTarget.dataset.product }));
$("photo").addEventListener("change", (e) => { if (e.target.files[0]) loadPhoto(e.target.files[0]); });
$("retry").addEventListener("click", () => startCamera());
for (const b of document.querySelectorAll("[data-close]")) b.addEventListener("click", () => hide(b.dataset.close));

// Swipe on the mirror: left = next, right = previous (as a carousel moves under a finger).
let swipe = null;
$("stage").addEventListener("pointerdown", (e) => { swipe = { x: e.clientX, y: e.clientY, t: e.timeStamp }; });
$("stage").addEventListener("pointerup", (e) => {
  if (!swipe) return;
  const dx = e.clientX - swipe.x, dy = e.clientY - swipe.y, dt = e.timeStamp - swipe.t;
  swipe = null;
  if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy) && dt < 800) step(dx < 0 ? 1 : -1);
});
document.addEventListener("keydown", (e) => {   // a desktop's keys too; nothing needs them
  if (e.key === "ArrowRight") step(1); else if (e.key === "ArrowLeft") step(-1);
  else if (e.key === "b") send({ type: "buy" }); else if (e.key === "s") $("snap").click();
});
document.addEventListener("visibilitychange", () => { if (!document.hidden) pump(); });

(async function main() {
  try { await loadProducts(); } catch (e) { status("Cannot load the products; retrying…"); setTimeout(main, 3000); return; }
  connect();
  startCamera();
})();

// segue studio: pick a MIDI file, continue it through the JSON API, draw it, play it.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { file: null, answer: null, active: 0, audioUrl: null, midiUrl: null, health: null };
const COLORS = { prime: "#5b7db1", generated: "#e07a1f", head: "#d62839", bar: "#e4e2dc", seam: "#1d2330" };

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error || response.statusText;
  } catch (_) {
    return `${response.status} ${response.statusText}`;
  }
}

function useFile(file) {
  state.file = file;
  $("file-name").textContent = file ? `${file.name} (${Math.ceil(file.size / 1024)} KB)` : "no file yet";
  $("continue").disabled = !file;
  if (file) say("Ready: press Continue.");
}

async function loadHealth() {
  const response = await fetch("/api/health");
  state.health = await response.json();
  const limits = state.health.limits;
  $("bars").max = limits.max_bars;
  $("samples").max = limits.max_samples;
  const examples = await (await fetch("/api/examples")).json();
  for (const name of examples.examples) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    $("example").appendChild(option);
  }
}

async function pickExample() {
  const name = $("example").value;
  if (!name) return;
  const response = await fetch(`/api/examples/${encodeURIComponent(name)}`);
  if (!response.ok) return say(await errorText(response), true);
  useFile(new File([await response.blob()], `${name}.mid`, { type: "audio/midi" }));
}

function form(samples, seed) {
  const data = new FormData();
  data.append("file", state.file, state.file.name);
  data.append("bars", $("bars").value);
  data.append("seed", String(seed));
  data.append("samples", String(samples));
  if ($("truncation").value) data.append("truncation", $("truncation").value);
  if ($("prime-bars").value) data.append("prime_bars", $("prime-bars").value);
  if ($("temperature").value) data.append("temperature", $("temperature").value);
  data.append("format", "json");
  return data;
}

// which model wrote it and why, and the corpus its sampler read the prime's parts as, if it says
function modelText(answer) {
  const model = answer.model ? `, model ${answer.model}` : "";
  return answer.read_as ? `${model}, the parts read as ${answer.read_as}` : model;
}

async function ask(samples, seed) {
  const response = await fetch("/api/continue", { method: "POST", body: form(samples, seed) });
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

async function continueFile() {
  $("continue").disabled = true;
  say("Writing the continuation…");
  const started = performance.now();
  try {
    state.answer = await ask(Number($("samples").value), Number($("seed").value));
    state.active = 0;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    say(`Continued ${state.answer.name} after ${state.answer.prime_bars} bars by ${state.answer.bars} bars in ${seconds} s${modelText(state.answer)}.`);
    showTabs();
    await show(0);
  } catch (error) {
    say(error.message, true);
  } finally {
    $("continue").disabled = !state.file;
  }
}

async function regenerate(index) {
  const seeds = state.answer.variations.map((v) => v.seed);
  const seed = Math.max(...seeds) + 1;
  say(`Redrawing variation ${index + 1} with seed ${seed}…`);
  try {
    const answer = await ask(1, seed);
    state.answer.variations[index] = answer.variations[0];
    say(`Variation ${index + 1} redrawn with seed ${seed}.`);
    showTabs();
    await show(index);
  } catch (error) {
    say(error.message, true);
  }
}

function showTabs() {
  const tabs = $("tabs");
  tabs.replaceChildren();
  state.answer.variations.forEach((variation, i) => {
    const tab = document.createElement("button");
    tab.className = "tab" + (i === state.active ? " active" : "");
    tab.textContent = `Variation ${i + 1} · seed ${variation.seed}`;
    tab.setAttribute("role", "tab");
    tab.onclick = () => show(i);
    tabs.appendChild(tab);
  });
  const again = document.createElement("button");
  again.className = "regen";
  again.id = "regenerate";
  again.textContent = "↻ Redraw this variation";
  again.onclick = () => regenerate(state.active);
  tabs.appendChild(again);
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

async function show(index) {
  state.active = index;
  document.querySelectorAll("#tabs .tab").forEach((tab, i) => tab.classList.toggle("active", i === index));
  const variation = state.answer.variations[index];
  draw(variation.notes, 0);
  const midi = new Blob([bytesOf(variation.midi)], { type: "audio/midi" });
  const stem = state.answer.name.replace(/\.midi?$/i, "");
  if (state.midiUrl) URL.revokeObjectURL(state.midiUrl);
  state.midiUrl = URL.createObjectURL(midi);
  const link = $("download-midi");
  link.href = state.midiUrl;
  link.download = `${stem}-continued-seed${variation.seed}.mid`;
  link.classList.remove("disabled");
  $("download-wav").classList.add("disabled");
  const data = new FormData();
  data.append("file", midi, "continuation.mid");
  const response = await fetch("/api/render", { method: "POST", body: data });
  if (!response.ok) return say(await errorText(response), true);
  if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
  state.audioUrl = URL.createObjectURL(await response.blob());
  $("audio").src = state.audioUrl;
  const wav = $("download-wav");
  wav.href = state.audioUrl;
  wav.download = `${stem}-continued-seed${variation.seed}.wav`;
  wav.classList.remove("disabled");
}

function draw(notes, headStep) {
  const canvas = $("roll");
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const a = state.answer;
  if (!notes.length) return;
  const low = Math.min(...notes.map((n) => n.pitch)) - 2, high = Math.max(...notes.map((n) => n.pitch)) + 2;
  const left = 34, end = Math.max(a.end, 1);
  const x = (step) => left + (step / end) * (width - left - 6);
  const row = (height - 18) / (high - low + 1);
  const y = (pitch) => 4 + (high - pitch) * row;
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#9aa0a6";
  for (let p = low; p <= high; p++) {
    if (p % 12 === 0) {
      ctx.fillText(`C${p / 12 - 1}`, 2, y(p) + row);
      ctx.fillStyle = "#f0efea";
      ctx.fillRect(left, y(p), width - left, row);
      ctx.fillStyle = "#9aa0a6";
    }
  }
  for (let bar = 0, s = 0; s <= end; bar++, s += a.steps_per_bar) {
    ctx.fillStyle = COLORS.bar;
    ctx.fillRect(x(s), 0, 1, height - 14);
    ctx.fillStyle = "#9aa0a6";
    if (bar % 2 === 0 && s < end) ctx.fillText(String(bar + 1), x(s) + 2, height - 3);
  }
  for (const n of notes) {
    ctx.fillStyle = n.generated ? COLORS.generated : COLORS.prime;
    ctx.fillRect(x(n.start) + 0.5, y(n.pitch), Math.max(2, x(n.start + n.length) - x(n.start) - 1), Math.max(2, row - 1));
  }
  ctx.fillStyle = COLORS.seam;
  ctx.fillRect(x(a.seam) - 1, 0, 2, height - 14);
  if (headStep > 0) {
    ctx.fillStyle = COLORS.head;
    ctx.fillRect(x(headStep) - 1, 0, 2, height - 14);
  }
  canvas.dataset.ready = "true";
  canvas.dataset.notes = String(notes.length);
  canvas.dataset.head = headStep > 0 ? headStep.toFixed(2) : "";
}

// The step of the grid that sounds `seconds` into the audio, through the tempo map.
function stepAt(seconds) {
  const map = state.answer.tempo_map;
  let segment = map[0];
  for (const next of map) {
    if (next.seconds > seconds) break;
    segment = next;
  }
  return segment.step + (seconds - segment.seconds) / segment.seconds_per_step;
}

function tick() {
  if (state.answer) {
    const audio = $("audio");
    const step = stepAt(audio.currentTime);
    if (!audio.paused || audio.currentTime > 0) draw(state.answer.variations[state.active].notes, step);
  }
  requestAnimationFrame(tick);
}

function wire() {
  $("file").onchange = (event) => useFile(event.target.files[0] || null);
  $("example").onchange = pickExample;
  $("continue").onclick = continueFile;
  const drop = $("drop");
  drop.ondragover = (event) => { event.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) useFile(event.dataTransfer.files[0]);
  };
  window.onresize = () => state.answer && draw(state.answer.variations[state.active].notes, 0);
  loadHealth().catch((error) => say(`The server does not answer: ${error.message}`, true));
  requestAnimationFrame(tick);
}

wire();

// parley chat demo: plain browser JavaScript, no build step. Every message is JSON sent over one
// WebSocket to the server's broadcast endpoint (/chat), which relays it to everyone else.
//   { type: 'chat', id, name, text, ts }    a message
//   { type: 'hello' | 'here' | 'bye', id, name }   presence, kept entirely by the clients
const MAX_TEXT = 2000;
const PRESENCE_EVERY_MS = 20_000;
const PRESENCE_TTL_MS = 50_000;

const $ = (id) => document.getElementById(id);
const log = $('log');
const statusEl = $('status');
const onlineEl = $('online');
const form = $('composer');
const textEl = $('text');
const nameEl = $('name');
const sendBtn = $('send');

const me = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
nameEl.value = localStorage.getItem('parley.name') || `guest-${Math.floor(1000 + Math.random() * 9000)}`;
nameEl.addEventListener('change', () => {
  nameEl.value = cleanName(nameEl.value) || 'guest';
  localStorage.setItem('parley.name', nameEl.value);
  announce('here');
});

/** @type {Map<string, {name: string, seen: number}>} */
const peers = new Map();
let ws;
let retry = 0;
let lastSender = '';

function cleanName(s) {
  return String(s ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 24);
}

/** A stable hue per name; the lightness comes from the stylesheet (light and dark themes differ). */
function hueFor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return String(h);
}

function setStatus(kind, text) {
  statusEl.className = `status ${kind}`;
  statusEl.textContent = text;
  sendBtn.disabled = kind !== 'open';
}

function updateOnline() {
  const now = Date.now();
  for (const [id, p] of peers) if (now - p.seen > PRESENCE_TTL_MS) peers.delete(id);
  const n = peers.size + 1;
  onlineEl.textContent = `${n} online`;
  onlineEl.title = ['you', ...[...peers.values()].map((p) => p.name)].join(', ');
}

function stickToBottom(fn) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  fn();
  $('empty')?.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function addSystem(text) {
  stickToBottom(() => {
    const el = document.createElement('div');
    el.className = 'system';
    el.textContent = text;
    log.append(el);
    lastSender = '';
  });
}

function addMessage({ id, name, text, ts }, mine) {
  stickToBottom(() => {
    const el = document.createElement('div');
    el.className = `msg${mine ? ' mine' : ''}${lastSender === id ? ' cont' : ''}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = mine ? 'you' : name;
    if (!mine) who.style.setProperty('--hue', hueFor(name));
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.textContent = text;
    const time = document.createElement('time');
    const when = new Date(Number.isFinite(ts) ? ts : Date.now());
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    el.append(who, bubble, time);
    log.append(el);
    lastSender = id;
  });
}

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function announce(type) {
  send({ type, id: me, name: nameEl.value });
}

function onMessage(event) {
  if (typeof event.data !== 'string') return;
  let m;
  try {
    m = JSON.parse(event.data);
  } catch {
    return; // not one of ours (someone used parley connect): ignore it
  }
  if (!m || typeof m !== 'object' || typeof m.id !== 'string' || m.id === me) return;
  const name = cleanName(m.name) || 'anonymous';
  const known = peers.has(m.id);
  switch (m.type) {
    case 'hello':
      peers.set(m.id, { name, seen: Date.now() });
      addSystem(`${name} joined`);
      announce('here');
      break;
    case 'here':
      if (known && peers.get(m.id).name !== name) addSystem(`${peers.get(m.id).name} is now ${name}`);
      peers.set(m.id, { name, seen: Date.now() });
      break;
    case 'bye':
      if (peers.delete(m.id)) addSystem(`${name} left`);
      break;
    case 'chat':
      if (typeof m.text !== 'string' || m.text.length === 0) return;
      peers.set(m.id, { name, seen: Date.now() });
      addMessage({ id: m.id, name, text: m.text.slice(0, MAX_TEXT), ts: Number(m.ts) }, false);
      break;
    default:
      return;
  }
  updateOnline();
}

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`;
  setStatus('connecting', 'connecting…');
  ws = new WebSocket(url);
  ws.addEventListener('open', () => {
    retry = 0;
    setStatus('open', 'online');
    announce('hello');
    textEl.focus();
  });
  ws.addEventListener('message', onMessage);
  ws.addEventListener('close', () => {
    peers.clear();
    updateOnline();
    const delay = Math.min(10_000, 500 * 2 ** retry++) * (0.75 + Math.random() * 0.5);
    setStatus('closed', `offline, retrying in ${Math.ceil(delay / 1000)}s`);
    setTimeout(connect, delay);
  });
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = textEl.value.trim().slice(0, MAX_TEXT);
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  const msg = { type: 'chat', id: me, name: nameEl.value, text, ts: Date.now() };
  send(msg);
  addMessage(msg, true);
  textEl.value = '';
});

setInterval(() => {
  announce('here');
  updateOnline();
}, PRESENCE_EVERY_MS);
addEventListener('pagehide', () => announce('bye'));

connect();

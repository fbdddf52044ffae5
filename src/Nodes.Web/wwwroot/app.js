// Nodes web view: the topology, packets hop by hop, each frame decoded, IKE as a chart, live faults and captures.
// Plain ES module, no dependencies: everything it needs ships with Nodes.

const SVG = 'http://www.w3.org/2000/svg';
const $ = (s) => document.querySelector(s);
const el = (tag, attrs = {}, text) => {
  const e = tag.includes(':') || ['svg', 'g', 'rect', 'text', 'line', 'path', 'circle', 'polygon', 'title'].includes(tag)
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

const state = {
  topo: null, pos: new Map(), hops: [], events: [], status: null,
  live: true, cursor: -1, selected: null, filter: new Set(['IKE', 'ESP', 'ICMP', 'UDP', 'TCP', 'BGP', 'IP']), node: '',
};

const KIND = { 'host': 'host', 'router': 'router', 'nat-router': 'NAT router', 'rras': 'RRAS', 'azure-vpn-gateway': 'Azure VPN gateway' };
const W = 150, NW = 118, NH = 58;

// ---------------------------------------------------------------------------------------------------------------
// Topology

// Above this many nodes the drawing keeps a box and a name per node (the rest is in its tooltip), drops the subnet
// labels, and starts zoomed out on the whole lab: the wheel zooms, a drag pans.
const LARGE = 150;

// What the page changes after drawing, found once instead of by selector: lines per link, each node's box and
// drop counter, each tunnel's path and labels, and the last state written to each (so that a status update
// touches only what changed).
const dom = { links: new Map(), nodes: new Map(), tunnels: new Map(), linkState: new Map(), nodeDrops: new Map(), active: [] };
const linkByName = new Map();
const view = { x: 0, y: 0, w: 600, h: 300, full: null };

function layout(topo) {
  // A graph of nodes and shared segments, laid out in columns by distance from the first node. A column taller
  // than the drawing allows is folded into several side by side, so that every node is inside the drawing.
  const adj = new Map();
  const add = (a, b) => { (adj.get(a) ?? adj.set(a, []).get(a)).push(b); (adj.get(b) ?? adj.set(b, []).get(b)).push(a); };
  for (const n of topo.nodes) adj.set(n.name, []);
  for (const l of topo.links) {
    if (l.segment || l.endpoints.length > 2) for (const e of l.endpoints) add('seg:' + l.name, e.node);
    else add(l.endpoints[0].node, l.endpoints[1].node);
  }
  const layer = new Map([[topo.nodes[0].name, 0]]);
  const queue = [topo.nodes[0].name];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of adj.get(v) ?? []) if (!layer.has(w)) { layer.set(w, layer.get(v) + 1); queue.push(w); }
  }
  let extra = 0;
  for (const v of layer.values()) extra = Math.max(extra, v + 1);
  for (const v of adj.keys()) if (!layer.has(v)) layer.set(v, extra++);
  const columns = new Map();
  for (const [v, c] of layer) (columns.get(c) ?? columns.set(c, []).get(c)).push(v);
  const maxRows = Math.max(2, Math.ceil(Math.sqrt(adj.size)));
  const rowsUsed = Math.min(maxRows, Math.max(...[...columns.values()].map((vs) => vs.length)));
  const height = Math.max(300, rowsUsed * 110 + 80);
  const middle = height / 2 + 25;
  let slot = 0;
  for (const c of [...columns.keys()].sort((a, b) => a - b)) {
    const vs = columns.get(c);
    for (let first = 0; first < vs.length; first += maxRows) {
      const part = vs.slice(first, first + maxRows);
      part.forEach((v, i) => state.pos.set(v, { x: 70 + slot * W, y: middle + (i - (part.length - 1) / 2) * 110 }));
      slot++;
    }
  }
  return { width: 70 + (slot - 1) * W + 80, height };
}

function setView(x, y, w, h) {
  Object.assign(view, { x, y, w, h });
  const box = `${x} ${y} ${w} ${h}`;
  $('#topology').setAttribute('viewBox', box);
  $('#overlay').setAttribute('viewBox', box);
}

const showWhole = () => setView(view.full.x, view.full.y, view.full.w, view.full.h);

function enableZoom(svg) {
  // The wheel zooms around the pointer; a drag pans; a double click shows the whole lab again.
  const toLab = (ev) => {
    const r = svg.getBoundingClientRect();
    const scale = Math.max(view.w / r.width, view.h / r.height);
    return { x: view.x + view.w / 2 + (ev.clientX - r.left - r.width / 2) * scale, y: view.y + view.h / 2 + (ev.clientY - r.top - r.height / 2) * scale, scale };
  };
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const p = toLab(ev), f = ev.deltaY > 0 ? 1.25 : 0.8;
    const w = Math.min(view.full.w * 2, Math.max(150, view.w * f)), k = w / view.w;
    setView(p.x - (p.x - view.x) * k, p.y - (p.y - view.y) * k, w, view.h * k);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('pointerdown', (ev) => { drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false }; });
  svg.addEventListener('pointermove', (ev) => {
    if (!drag || !(ev.buttons & 1)) return;
    const { scale } = toLab(ev), dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) setView(drag.vx - dx * scale, drag.vy - dy * scale, view.w, view.h);
  });
  svg.addEventListener('pointerup', () => { setTimeout(() => { drag = null; }, 0); });
  svg.addEventListener('click', (ev) => { if (drag?.moved) ev.stopPropagation(); }, true);
  svg.addEventListener('dblclick', showWhole);
}

function drawTopology() {
  const topo = state.topo;
  const large = topo.nodes.length > LARGE;
  const svg = $('#topology');
  svg.replaceChildren();
  for (const l of topo.links) linkByName.set(l.name, l);
  const { width, height } = layout(topo);
  view.full = { x: 0, y: 0, w: Math.max(width, 600), h: height };
  showWhole();
  enableZoom(svg);
  const links = el('g'); const nodes = el('g');
  svg.append(el('g', { id: 'tunnels' }), links, nodes);
  const lineOf = (l, a, b) => {
    const line = el('line', { class: 'link', x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'data-link': l.name });
    (dom.links.get(l.name) ?? dom.links.set(l.name, []).get(l.name)).push(line);
    return line;
  };
  for (const l of topo.links) {
    const seg = l.segment || l.endpoints.length > 2;
    const g = el('g', { 'data-link': l.name });
    if (seg) {
      const p = state.pos.get('seg:' + l.name);
      for (const e of l.endpoints) g.append(lineOf(l, p, state.pos.get(e.node)));
      const s = el('g', { class: 'segment' });
      s.append(el('rect', { x: p.x - 40, y: p.y - 12, width: 80, height: 24 }));
      if (!large) s.append(el('text', { class: 'subnet', x: p.x, y: p.y - 16 }, l.subnets.join(' ')));
      s.append(el('text', { class: 'subnet', x: p.x, y: p.y + 4, 'font-weight': 700 }, l.segment ?? l.name));
      nodes.append(s);
    } else {
      const a = state.pos.get(l.endpoints[0].node), b = state.pos.get(l.endpoints[1].node);
      g.append(lineOf(l, a, b));
      // Below the boxes; a slanted link's label starts at its middle so that it clears the lower box.
      const slanted = a.y !== b.y;
      if (!large) g.append(el('text', { class: 'subnet', x: (a.x + b.x) / 2 - (slanted ? 4 : 0), y: (a.y + b.y) / 2 + 42, ...(slanted ? { style: 'text-anchor:start' } : {}) }, l.subnets.join(' ')));
    }
    g.append(el('title', {}, `${l.name} ${l.subnets.join(' ')}\n${l.endpoints.map((e) => `${e.node}:${e.interface} ${e.address ?? ''}`).join('\n')}`));
    links.append(g);
  }
  for (const n of topo.nodes) {
    const p = state.pos.get(n.name);
    const g = el('g', { class: `node kind-${n.kind}`, 'data-node': n.name, transform: `translate(${p.x - NW / 2},${p.y - NH / 2})` });
    g.append(el('rect', { width: NW, height: NH }), el('text', { class: 'name', x: NW / 2, y: 16 }, n.name), el('text', { class: 'kind', x: NW / 2, y: 30 }, KIND[n.kind] ?? n.kind));
    if (!large) n.interfaces.slice(0, 2).forEach((i, k) => g.append(el('text', { x: NW / 2, y: 43 + k * 11, 'font-size': 10 }, i.cidr)));
    const drops = el('text', { class: 'drops', x: NW - 4, y: 12, 'text-anchor': 'end' });
    g.append(drops);
    g.append(el('title', {}, `${n.name} (${KIND[n.kind] ?? n.kind})\n${n.interfaces.map((i) => `${i.name} ${i.cidr}`).join('\n')}`));
    g.addEventListener('click', () => { $('#node-filter').value = state.node === n.name ? '' : n.name; $('#node-filter').dispatchEvent(new Event('change')); });
    dom.nodes.set(n.name, { g, drops });
    nodes.append(g);
  }
  drawTunnels(large);
}

function drawTunnels(large) {
  // Drawn once; their state and labels change in place (updateTunnels).
  const g = $('#tunnels');
  for (const t of state.topo.tunnels) {
    const a = state.pos.get(t.from), b = state.pos.get(t.to);
    const top = Math.min(a.y, b.y) - NH / 2 - 70;
    const path = el('path', { class: 'tunnel Unknown', d: `M${a.x},${a.y - NH / 2} C${a.x},${top} ${b.x},${top} ${b.x},${b.y - NH / 2}`, 'data-tunnel': t.name, 'data-state': 'Unknown' });
    const entry = { t, path, key: null };
    if (large) {
      entry.title = el('title', {});
      path.append(entry.title);
      g.append(path);
    } else {
      entry.label = el('text', { class: 'tunnel-label', x: (a.x + b.x) / 2, y: top + 14, id: 'tunnel-label' });
      entry.label2 = el('text', { class: 'tunnel-label', x: (a.x + b.x) / 2, y: top + 28, id: 'tunnel-peer', 'data-peer': '' });
      g.append(path, entry.label, entry.label2);
    }
    dom.tunnels.set(t.name, entry);
  }
  updateTunnels();
}

function updateTunnels() {
  for (const entry of dom.tunnels.values()) {
    const t = entry.t;
    const st = state.status?.nodes?.[t.from]?.tunnels?.find((x) => x.name) ?? null;
    const peer = state.status?.nodes?.[t.to]?.tunnels?.[0] ?? null;
    const s = st?.state ?? 'Unknown';
    const text = `tunnel ${t.name}: ${s}${st?.natDetected ? ', NAT detected' : ''}`;
    const peerText = peer ? `${t.to} sees peer ${peer.remoteEndpoint || '?'} · ${t.from} at ${st?.localEndpoint || '?'}` : '';
    const key = `${s}|${text}|${peerText}|${peer?.remoteEndpoint ?? ''}`;
    if (key === entry.key) continue;
    entry.key = key;
    entry.path.setAttribute('class', `tunnel ${s}`);
    entry.path.dataset.state = s;
    if (entry.title) entry.title.textContent = `${text}\n${peerText}`;
    if (entry.label) {
      entry.label.textContent = text;
      entry.label2.textContent = peerText;
      entry.label2.dataset.peer = peer?.remoteEndpoint ?? '';
    }
  }
}

function applyStatus() {
  const s = state.status;
  if (!s) return;
  for (const [name, lines] of dom.links) {
    const ls = s.links?.[name]?.state ?? '';
    if (dom.linkState.get(name) === ls) continue;
    dom.linkState.set(name, ls);
    for (const line of lines) {
      line.classList.remove('up', 'down', 'impaired');
      if (ls) line.classList.add(ls);
    }
  }
  for (const [name, { drops: t }] of dom.nodes) {
    const n = s.nodes?.[name];
    const drops = n ? Object.values(n.drops).reduce((a, b) => a + b, 0) : 0;
    const reasons = drops ? Object.entries(n.drops).map(([r, c]) => `${r}: ${c}`).join('\n') : '';
    if (dom.nodeDrops.get(name) === reasons) continue;
    dom.nodeDrops.set(name, reasons);
    t.textContent = drops ? `✕${drops}` : '';
    if (drops) t.append(el('title', {}, reasons));
  }
  updateTunnels();
}

// ---------------------------------------------------------------------------------------------------------------
// Hops, filter, stepping

const visible = () => state.hops.filter((h) => state.filter.has(h.protocol) && (!state.node || h.from === state.node || h.to.includes(state.node)));

function route(h) {
  const l = linkByName.get(h.link);
  const a = state.pos.get(h.from), b = state.pos.get(h.to[0] ?? h.from);
  if (l && (l.segment || l.endpoints.length > 2)) return [a, state.pos.get('seg:' + l.name), b];
  return [a, b];
}

function animate(h, duration) {
  const g = $('#overlay');
  g.replaceChildren();
  const pts = route(h);
  const dot = el('circle', { r: 8, class: `packet ${h.protocol}`, cx: pts[0].x, cy: pts[0].y, 'data-hop': h.id });
  dot.append(el('title', {}, h.summary));
  g.append(dot);
  const lengths = pts.slice(1).map((p, i) => Math.hypot(p.x - pts[i].x, p.y - pts[i].y));
  const total = lengths.reduce((a, b) => a + b, 0) || 1;
  const place = (f) => {
    let d = f * total;
    for (let i = 0; i < lengths.length; i++) {
      if (d <= lengths[i] || i === lengths.length - 1) {
        const k = lengths[i] ? Math.min(1, d / lengths[i]) : 1;
        dot.setAttribute('cx', pts[i].x + (pts[i + 1].x - pts[i].x) * k);
        dot.setAttribute('cy', pts[i].y + (pts[i + 1].y - pts[i].y) * k);
        return;
      }
      d -= lengths[i];
    }
  };
  if (!duration) { place(0.75); return; }
  const start = performance.now();
  const step = (now) => { const f = Math.min(1, (now - start) / duration); place(f); if (f < 1 && dot.isConnected) requestAnimationFrame(step); };
  requestAnimationFrame(step);
}

function show(index, animateIt) {
  const list = visible();
  if (!list.length) { $('#position').textContent = 'no hop yet'; return; }
  state.cursor = Math.max(0, Math.min(index, list.length - 1));
  const h = list[state.cursor];
  for (const x of dom.active) x.classList.remove('active');
  dom.active = [...(dom.links.get(h.link) ?? []), ...[h.from, ...h.to].map((n) => dom.nodes.get(n)?.g).filter((g) => g)];
  for (const x of dom.active) x.classList.add('active');
  animate(h, animateIt ? 450 : 0);
  $('#position').textContent = `hop ${state.cursor + 1} / ${list.length}${state.live ? ' · live' : ' · paused'}`;
  const cur = $('#current-hop');
  cur.dataset.hop = h.id; cur.dataset.from = h.from; cur.dataset.to = h.to.join(','); cur.dataset.protocol = h.protocol;
  cur.textContent = `#${h.id} t=${(h.t / 1000).toFixed(3)} s  ${h.from} → ${h.to.join(', ') || '(no one)'} on ${h.link}: ${h.summary}`;
  for (const r of document.querySelectorAll('#hop-list tr.current')) r.classList.remove('current');
  const row = document.querySelector(`#hop-list tr[data-hop="${h.id}"]`);
  if (row) { row.classList.add('current'); row.scrollIntoView({ block: 'nearest' }); }
  drawTimeline();
  if (!state.live) select(h.id);
}

function row(h) {
  const tr = el('tr', { 'data-hop': h.id, class: `p-${h.protocol}` });
  for (const v of [h.id, (h.t / 1000).toFixed(3), h.link, `${h.from} → ${h.to.join(', ')}`, h.protocol, h.summary]) tr.append(el('td', {}, String(v)));
  tr.addEventListener('click', () => { pause(); show(visible().findIndex((x) => x.id === h.id), false); });
  return tr;
}

function rebuildList() {
  const body = $('#hop-list tbody');
  body.replaceChildren(...visible().map(row));
  show(state.live ? visible().length - 1 : state.cursor, false);
}

function pause() { state.live = false; $('#play').textContent = '▶▶'; $('#play').title = 'Follow live (space)'; }
function resume() { state.live = true; $('#play').textContent = '❚❚'; $('#play').title = 'Pause (space)'; show(visible().length - 1, true); }

function drawTimeline() {
  const svg = $('#timeline');
  const w = svg.clientWidth || 800;
  const end = Math.max(1000, ...state.hops.map((h) => h.t), ...state.events.map((e) => e.t));
  const x = (t) => 6 + (t / end) * (w - 12);
  svg.replaceChildren();
  const ticks = el('path', { stroke: '#99a', d: visible().map((h) => `M${x(h.t).toFixed(1)},8v12`).join('') });
  svg.append(ticks);
  for (const e of state.events.filter((e) => e.fault)) {
    const m = el('polygon', { points: `${x(e.t) - 6},32 ${x(e.t) + 6},32 ${x(e.t)},20`, fill: e.ok ? '#d0342c' : '#888', class: 'fault-mark', 'data-fault': e.text });
    m.append(el('title', {}, `${(e.t / 1000).toFixed(3)} s ${e.node}: ${e.text}`));
    svg.append(m);
  }
  const h = visible()[state.cursor];
  if (h) svg.append(el('line', { x1: x(h.t), x2: x(h.t), y1: 2, y2: 30, stroke: '#e0a000', 'stroke-width': 3 }));
  svg.onclick = (ev) => {
    const t = ((ev.offsetX - 6) / (w - 12)) * end;
    const list = visible();
    let best = 0;
    list.forEach((q, i) => { if (Math.abs(q.t - t) < Math.abs(list[best].t - t)) best = i; });
    pause(); show(best, false);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One packet: layers, bytes, what the node did

async function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  const r = await fetch(`/api/hop/${id}`);
  if (!r.ok) return;
  const { hop, decoded, did } = await r.json();
  if (state.selected !== id) return;
  const tab = $('#tab-packet');
  tab.replaceChildren();
  tab.append(el('h3', {}, `#${hop.id} ${hop.from} → ${hop.to.join(', ')} on ${hop.link} (${hop.length} bytes)`));
  const d = el('div', { class: 'did', id: 'did' });
  d.append(el('b', {}, `What ${hop.from} did: `), document.createTextNode(did.what));
  if (did.from !== null && did.from !== undefined) {
    const a = el('a', { href: '#' }, ` (from hop #${did.from})`);
    a.onclick = (e) => { e.preventDefault(); pause(); show(visible().findIndex((x) => x.id === did.from), false); };
    d.append(a);
  }
  for (const e of did.events) d.append(el('div', {}, `${(e.t / 1000).toFixed(3)} s ${e.node}: ${e.text}`));
  tab.append(d);
  const tree = el('div', { id: 'layers' });
  const hexes = decoded.blocks.map((b, i) => hexView(b, i));
  for (const layer of decoded.layers) {
    const det = el('details', { class: 'layer', open: '', style: `margin-left:${layer.depth * 14}px` });
    const sum = el('summary', {}, layer.name);
    sum.addEventListener('click', () => highlight(hexes, layer.block, layer.offset, layer.length));
    det.append(sum);
    for (const f of layer.fields) {
      const div = el('div', { class: 'field', 'data-name': f.name });
      div.append(el('span', { class: 'fname' }, f.name + ': '), document.createTextNode(f.value));
      div.addEventListener('click', () => {
        for (const s of tab.querySelectorAll('.field.selected')) s.classList.remove('selected');
        div.classList.add('selected');
        highlight(hexes, f.block, f.offset, f.length);
      });
      det.append(div);
    }
    tree.append(det);
  }
  tab.append(tree);
  for (const h of hexes) tab.append(h.title, h.pre);
  activateTab('packet');
}

function hexView(block, index) {
  const bytes = block.hex.match(/../g) ?? [];
  const pre = el('div', { class: 'hex', 'data-block': index });
  const spans = [];
  for (let i = 0; i < bytes.length; i += 16) {
    pre.append(document.createTextNode(i.toString(16).padStart(4, '0') + '  '));
    for (let j = i; j < Math.min(i + 16, bytes.length); j++) {
      const s = el('span', { class: 'b' }, bytes[j]);
      spans.push(s);
      pre.append(s, document.createTextNode(j % 8 === 7 ? '  ' : ' '));
    }
    pre.append(document.createTextNode('\n'));
  }
  return { title: el('h4', {}, block.name), pre, spans };
}

function highlight(hexes, block, offset, length) {
  for (const h of hexes) for (const s of h.spans) s.classList.remove('hl');
  const h = hexes[block];
  if (!h) return;
  for (let i = offset; i < offset + length && i < h.spans.length; i++) h.spans[i].classList.add('hl');
  h.spans[offset]?.scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------------------------------------------------------
// IKE chart, faults, capture, events

async function drawIke() {
  const entries = await (await fetch('/api/ike')).json();
  const tab = $('#tab-ike');
  tab.replaceChildren();
  const t = state.topo.tunnels[0];
  if (!t) { tab.append(el('p', { class: 'hint' }, 'No tunnel in this topology.')); return; }
  const left = t.from, right = t.to, w = 620, rowH = 54;
  const svg = el('svg', { class: 'ike-chart', width: '100%', viewBox: `0 0 ${w} ${40 + entries.length * rowH}`, id: 'ike-chart' });
  svg.append(el('text', { x: 60, y: 14, 'text-anchor': 'middle', 'font-weight': 700 }, left), el('text', { x: w - 60, y: 14, 'text-anchor': 'middle', 'font-weight': 700 }, right));
  svg.append(el('line', { x1: 60, x2: 60, y1: 20, y2: 40 + entries.length * rowH, stroke: '#556' }), el('line', { x1: w - 60, x2: w - 60, y1: 20, y2: 40 + entries.length * rowH, stroke: '#556' }));
  entries.forEach((e, i) => {
    const y = 44 + i * rowH, ltr = e.from === left;
    const x1 = ltr ? 60 : w - 60, x2 = ltr ? w - 60 : 60;
    const g = el('g', { class: 'msg', 'data-hop': e.hop });
    g.append(el('line', { x1, x2, y1: y, y2: y, stroke: e.response ? '#0b6e4f' : '#7a2fb0', 'stroke-width': 2 }));
    g.append(el('polygon', { points: `${x2},${y} ${x2 + (ltr ? -8 : 8)},${y - 4} ${x2 + (ltr ? -8 : 8)},${y + 4}`, fill: '#333' }));
    g.append(el('text', { x: w / 2, y: y - 5, 'text-anchor': 'middle', 'font-weight': 700 }, `${e.exchange} ${e.response ? 'response' : 'request'} MID ${e.mid} (UDP ${e.ports})`));
    g.append(el('text', { x: w / 2, y: y + 13, 'text-anchor': 'middle' }, e.payloads.join(' ').slice(0, 76) + (e.encrypted ? ' [decrypted]' : '')));
    if (e.proposal) g.append(el('text', { x: w / 2, y: y + 26, 'text-anchor': 'middle', fill: '#556' }, ('chosen: ' + e.proposal).slice(0, 84)));
    g.append(el('title', {}, `${(e.t / 1000).toFixed(3)} s, SPIs ${e.spis}\n${e.payloads.join('\n')}${e.proposal ? '\nchosen ' + e.proposal : ''}`));
    g.addEventListener('click', () => { pause(); show(visible().findIndex((x) => x.id === e.hop), false); });
    svg.append(g);
  });
  tab.append(svg);
}

async function drawFaults() {
  const catalog = await (await fetch('/api/faults')).json();
  const tab = $('#tab-faults');
  tab.replaceChildren();
  const form = el('form', { class: 'fault-form', id: 'fault-form' });
  const pick = el('select', { id: 'fault-name' });
  for (const f of catalog) pick.append(el('option', { value: f.name }, f.name));
  const about = el('p', { class: 'hint' });
  const target = el('select', { id: 'fault-target' });
  const params = el('div');
  const result = el('p', { id: 'fault-result' });
  const fill = () => {
    const f = catalog.find((x) => x.name === pick.value);
    about.textContent = `${f.summary} (acts on ${f.targetText})`;
    target.replaceChildren();
    const nodes = state.topo.nodes.map((n) => n.name), links = state.topo.links.map((l) => l.name);
    const add = (kind, name) => target.append(el('option', { value: `${kind}:${name}` }, `${kind} ${name}`));
    if (f.target === 'Link' || f.target === 'LinkOrNode') links.forEach((l) => add('link', l));
    if (f.target !== 'Link') state.topo.nodes.filter((n) => f.target !== 'NatRouter' || n.kind === 'nat-router').filter((n) => f.target !== 'Gateway' || n.kind === 'rras' || n.kind === 'azure-vpn-gateway').forEach((n) => add('node', n.name));
    params.replaceChildren();
    for (const p of f.parameters) {
      const label = el('label', {}, `${p.name} `);
      const input = p.choices.length ? el('select', { name: p.name }) : el('input', { name: p.name, placeholder: p.default ?? '', size: 10 });
      if (p.choices.length) for (const c of p.choices) input.append(el('option', { value: c, ...(c === p.default ? { selected: '' } : {}) }, c));
      label.append(input, el('span', { class: 'hint' }, ` ${p.description}`));
      params.append(label);
    }
  };
  pick.onchange = fill;
  const go = el('button', { type: 'submit', id: 'fault-inject' }, 'Inject now');
  form.append(el('label', {}, 'Fault '), pick, about, el('label', {}, 'Target '), target, params, go, result);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const [kind, ...rest] = target.value.split(':');
    const name = rest.join(':');
    const body = { fault: pick.value, node: kind === 'node' ? name : null, link: kind === 'link' ? name : null, params: {} };
    for (const i of params.querySelectorAll('input, select')) if (i.value) body.params[i.name] = i.value;
    const r = await fetch('/api/fault', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = await r.json();
    result.textContent = j.error ?? j.answers.map((a) => `${a.target}: ${a.ok ? 'applied' : 'refused'}, ${a.detail}`).join('; ');
    result.dataset.ok = r.ok ? 'true' : 'false';
  };
  fill();
  tab.append(form);
}

function drawCapture() {
  const tab = $('#tab-capture');
  tab.replaceChildren(el('p', {}, 'Each link as a live pcapng stream (frames so far, then live). Wireshark decrypts it with the key files beside it:'));
  const ul = el('ul');
  for (const l of state.topo.links) {
    const url = new URL(`/capture/${l.name.replace(/[^A-Za-z0-9._-]/g, '_')}.pcapng`, location.href).href;
    const li = el('li');
    li.append(el('a', { href: url }, l.name), el('br'), el('code', {}, `curl -sN ${url} | wireshark -k -i -`));
    ul.append(li);
  }
  tab.append(ul, el('p', {}, 'Keys (put them in a Wireshark configuration folder, or use nodes extcap):'));
  for (const f of ['esp_sa', 'ikev2_decryption_table', 'preferences']) {
    tab.append(el('a', { href: `/capture/${f}`, style: 'margin-right:12px' }, f));
  }
}

function addEvent(e) {
  state.events.push(e);
  const li = el('li', { class: e.fault ? 'fault' : '' }, `${(e.t / 1000).toFixed(3)} s ${e.node} [${e.kind}] ${e.text}`);
  $('#events').append(li);
  if (e.fault) drawTimeline();
}

function activateTab(name) {
  for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.id === `tab-${name}`);
  if (name === 'ike') drawIke();
}

// ---------------------------------------------------------------------------------------------------------------
// Start

async function start() {
  state.topo = await (await fetch('/api/topology')).json();
  $('#lab-name').textContent = `Nodes · ${state.topo.name}`;
  document.title = `Nodes: ${state.topo.name}`;
  for (const n of state.topo.nodes) $('#node-filter').append(el('option', { value: n.name }, n.name));
  drawTopology();
  drawFaults();
  drawCapture();
  $('#back').onclick = () => { pause(); show(state.cursor - 1, true); };
  $('#forward').onclick = () => { pause(); show(state.cursor + 1, true); };
  $('#play').onclick = () => (state.live ? pause() : resume());
  for (const b of document.querySelectorAll('.tabs button')) b.onclick = () => activateTab(b.dataset.tab);
  for (const c of document.querySelectorAll('.filter input')) c.onchange = () => { c.checked ? state.filter.add(c.value) : state.filter.delete(c.value); rebuildList(); };
  $('#node-filter').onchange = () => { state.node = $('#node-filter').value; rebuildList(); };
  document.addEventListener('keydown', (ev) => {
    if (ev.target.matches('input:not([type=checkbox]), select, textarea')) return; // typing a value, not stepping
    if (ev.key === 'ArrowRight') { ev.preventDefault(); pause(); show(state.cursor + 1, true); }
    else if (ev.key === 'ArrowLeft') { ev.preventDefault(); pause(); show(state.cursor - 1, true); }
    else if (ev.key === 'Home') { ev.preventDefault(); pause(); show(0, false); }
    else if (ev.key === 'End') { ev.preventDefault(); pause(); show(visible().length - 1, false); }
    else if (ev.key === ' ') { ev.preventDefault(); state.live ? pause() : resume(); }
  });
  const source = new EventSource('/api/stream');
  let pending = false;
  source.addEventListener('hop', (m) => {
    const h = JSON.parse(m.data);
    state.hops.push(h);
    const pass = state.filter.has(h.protocol) && (!state.node || h.from === state.node || h.to.includes(state.node));
    if (pass) $('#hop-list tbody').append(row(h));
    if (pass && state.live && !pending) {
      pending = true;
      requestAnimationFrame(() => { pending = false; if (state.live) show(visible().length - 1, true); });
    } else if (!state.live) $('#position').textContent = `hop ${state.cursor + 1} / ${visible().length} · paused`;
  });
  source.addEventListener('event', (m) => addEvent(JSON.parse(m.data)));
  source.addEventListener('status', (m) => { state.status = JSON.parse(m.data); applyStatus(); });
  // Everything recorded before the page opened has arrived: what follows is live.
  source.addEventListener('ready', () => { if (state.live) show(visible().length - 1, false); document.body.dataset.ready = 'true'; });
}

start();

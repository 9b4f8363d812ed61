/* report.js -- draws report.html from its JSON block (#pda-data) with uPlot.
 *
 * Waveforms: every chip's power and every rail's current, droop and dI/dt,
 * one uPlot each, their x ranges kept together. What a plot shows is chosen
 * from the visible range: the coarse overview when most of the run is in
 * view, else the fine overview's columns there (min/max bands), and the
 * per-bin detail windows in place of the columns they cover once the range
 * is narrow enough to see bins. Events zoom every waveform to themselves.
 * The heat maps are drawn on canvas from the temperature grids, one colour
 * scale per chip across its dies.
 *
 * For tests: each plot's box gets data-drawn="1" once uPlot has drawn it;
 * <body data-ready="N"> when all N plots are up; data-xrange="min,max" (ns)
 * follows the waveforms' range; #event=K in the URL zooms to event K on
 * load; data-detail counts the waveforms drawing per-bin windows; errors
 * (and console.error) go to window.pdaErrors and data-errors. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('pda-data').textContent);
  var NR = D.rails.length, T_END = D.n_bins * D.bin_ns;
  /* the end of the run; past it (to T_END) the chip idles while its supply settles */
  var T_RUN = (D.run_bins !== undefined ? D.run_bins : D.n_bins) * D.bin_ns;
  var plots = [], waves = [], nDrawn = 0;
  var COL = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22',
             '#17becf', '#393b79', '#637939'];

  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  /* numbers: p significant digits, no exponent for everyday magnitudes */
  function fmt(v, p) {
    if (v === null || v === undefined || !isFinite(v)) return '-';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential((p || 4) - 1);
    return String(Number(v.toPrecision(p || 4)));
  }
  /* a time in ns in the unit that reads best */
  function tunit(span) { return span >= 2e6 ? [1e6, 'ms'] : span >= 2e3 ? [1e3, 'us'] : [1, 'ns']; }
  function ftime(ns, span) {
    var u = tunit(span === undefined ? Math.abs(ns) : span);
    return fmt(ns / u[0], 7) + ' ' + u[1];
  }
  /* tick steps of 1, 2 or 5 x 10^k, so labels stay round in any unit */
  var INCRS = [];
  for (var e10 = -15; e10 <= 15; e10++) [1, 2, 5].forEach(function (m) { INCRS.push(m * Math.pow(10, e10)); });
  /* tick labels with as many decimals as the tick step needs */
  function ticks(scale) {
    return function (u, splits, ai, space, incr) {
      var d = Math.max(0, Math.min(12, -Math.floor(Math.log10(incr / scale) + 1e-9)));
      return splits.map(function (v) { return v === null ? '' : (v / scale).toFixed(d); });
    };
  }
  /* time ticks in the unit of the visible span, named in the axis label */
  function timeAxis(u, splits, ai, space, incr) {
    var x = u.scales.x, tu = tunit(x.max - x.min);
    u.axes[ai].label = (u.axes[ai].label || 'time').replace(/ \(.*\)$/, '') + ' (' + tu[1] + ')';
    return ticks(tu[0])(u, splits, ai, space, incr);
  }

  /* ---- waveform data at the visible range ---------------------------- */

  var LV = D.levels, DETAIL_BINS = 5000;   /* bins in view up to which detail windows are drawn */
  function colsIn(lv, x0, x1) {
    var t = lv.t, lo = 0, hi = t.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (t[m] < x0) lo = m + 1; else hi = m; }
    var a = Math.max(0, lo - 1);
    lo = a; hi = t.length;
    while (lo < hi) { var m2 = (lo + hi) >> 1; if (t[m2] <= x1) lo = m2 + 1; else hi = m2; }
    return [a, Math.min(t.length, lo + 1)];
  }
  /* [x, min, max] of quantity q ('i', 'd', 'g' of series k, or 'p' of chip k) */
  function waveData(q, k, x0, x1) {
    var full = x1 - x0 >= 0.5 * T_END, lv = LV[full ? 0 : 1];
    var src = q === 'p' ? lv.power[k] : lv.series[k];
    var lo = src[q], hi = src[q.toUpperCase()];
    var r = colsIn(lv, x0, x1), xs = [], a = [], b = [];
    var t = lv.t, endOf = function (j) { return j + 1 < t.length ? t[j + 1] : T_END; };
    var det = [];   /* the windows of this series (power: of this chip) in view, close enough to see bins */
    D.details.forEach(function (w) {
      if (q === 'p' ? !(w.p && w.chip === k) : w.s !== k) return;
      var w0 = w.b0 * D.bin_ns, w1 = (w.b0 + w.i.length) * D.bin_ns;
      if (w1 > x0 && w0 < x1 && x1 - x0 <= DETAIL_BINS * D.bin_ns) det.push([w0, w1, w]);
    });
    det.sort(function (p, q2) { return p[0] - q2[0]; });
    var di = 0;
    for (var j = r[0]; j < r[1]; j++) {
      while (di < det.length && det[di][1] <= t[j]) di++;
      if (di < det.length && det[di][0] < endOf(j) && det[di][1] > t[j]) {
        /* this column overlaps a detail window: its bins, once */
        var w = det[di][2], v = w[q === 'p' ? 'p' : q];
        if (!w.done) {
          for (var bb = 0; bb < v.length; bb++) {
            xs.push((w.b0 + bb) * D.bin_ns); a.push(v[bb]); b.push(v[bb]);
          }
          w.done = true;
        }
        continue;
      }
      xs.push(t[j]); a.push(lo[j]); b.push(hi[j]);
    }
    var shown = det.filter(function (d) { return d[2].done; }).length;
    det.forEach(function (d) { d[2].done = false; });
    /* keep x ascending where a window's bins and a column interleave */
    var idx = xs.map(function (_, i) { return i; }).sort(function (p, q2) { return xs[p] - xs[q2]; });
    var out = [idx.map(function (i) { return xs[i]; }), idx.map(function (i) { return a[i]; }),
               idx.map(function (i) { return b[i]; })];
    out.detail = shown;
    return out;
  }

  /* ---- the shared x range ------------------------------------------------- */

  var range = [0, T_END], pending = false, rangeBox = null;
  function setRange(x0, x1) {
    if (!(x1 > x0)) return;
    var minSpan = 8 * D.bin_ns;
    if (x1 - x0 < minSpan) { var c = (x0 + x1) / 2; x0 = c - minSpan / 2; x1 = c + minSpan / 2; }
    x0 = Math.max(0, x0); x1 = Math.min(T_END, x1);
    range = [x0, x1];
    if (!pending) { pending = true; requestAnimationFrame(applyRange); }
  }
  function applyRange() {
    pending = false;
    waves.forEach(refresh);
    document.body.setAttribute('data-xrange', range[0] + ',' + range[1]);
    if (rangeBox) rangeBox.textContent = 'showing ' + ftime(range[0], range[1] - range[0]) + ' .. ' +
      ftime(range[1], range[1] - range[0]) + (range[1] - range[0] <= DETAIL_BINS * D.bin_ns ?
        ' (per-bin detail where an event window is kept)' : '');
    document.body.setAttribute('data-detail', String(waves.filter(function (w) { return w.detail; }).length));
  }
  function refresh(w) {
    var d = waveData(w.q, w.k, range[0], range[1]), lo = Infinity, hi = -Infinity;
    w.detail = d.detail;
    for (var j = 0; j < d[0].length; j++) {
      if (d[0][j] < range[0] - 1e-9 * T_END || d[0][j] > range[1]) continue;
      if (d[1][j] !== null && d[1][j] < lo) lo = d[1][j];
      if (d[2][j] !== null && d[2][j] > hi) hi = d[2][j];
    }
    var lines = w.lines || [];
    lines.forEach(function (L) { if (L.v < lo) lo = L.v; if (L.v > hi) hi = L.v; });
    if (!(hi >= lo)) { lo = 0; hi = 1; }
    if (w.zero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
    var pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.05 || 1;
    var data = d.concat(lines.map(function (L) { return d[0].map(function () { return L.v; }); }));
    w.u.batch(function () {
      w.u.setData(data, false);
      w.u.setScale('x', {min: range[0], max: range[1]});
      w.u.setScale('y', {min: lo - pad, max: hi + pad});
    });
  }

  /* ---- one uPlot ------------------------------------------------------- */

  function box(parent, title) {
    var b = el('div', {'class': 'plot'}, parent);
    el('div', {'class': 'title'}, b, title);
    return b;
  }
  function width(parent) { return Math.max(480, Math.min(1160, (parent.clientWidth || 1100) - 10)); }
  function drawn(b) {
    return function () {
      if (b.getAttribute('data-drawn') !== '1') { b.setAttribute('data-drawn', '1'); nDrawn++; }
    };
  }
  function make(b, opts, data) {
    opts.hooks = opts.hooks || {};
    opts.hooks.draw = (opts.hooks.draw || []).concat([drawn(b)]);
    var u = new uPlot(opts, data, b);
    plots.push(u);
    return u;
  }

  /* a waveform plot: min/max band, limit lines; q, k as waveData */
  function wavePlot(parent, title, q, k, unit, lines, zero) {
    var b = box(parent, title), st = uPlot.paths.stepped({align: 1});
    var val = function (u, v) { return v === null || v === undefined ? '-' : fmt(v, 5) + ' ' + unit; };
    var series = [{label: 'time', value: function (u, v) { return v === null ? '-' : ftime(v, range[1] - range[0]); }},
                  {label: 'min', stroke: COL[0], width: 1, paths: st, points: {show: false}, value: val},
                  {label: 'max', stroke: COL[0], width: 1, paths: st, points: {show: false}, value: val}];
    lines.forEach(function (L) {
      series.push({label: L.label, stroke: L.colour || '#333', width: 1.5, dash: [6, 4], points: {show: false},
                   value: function () { return fmt(L.v, 5) + ' ' + unit; }});
    });
    var w = {q: q, k: k, lines: lines, zero: zero};
    var opts = {
      width: width(parent), height: 190,
      scales: {x: {time: false, auto: false}, y: {auto: false}},
      series: series,
      bands: [{series: [2, 1], fill: 'rgba(31,119,180,0.35)'}],
      axes: [{values: timeAxis, incrs: INCRS, label: 'time', size: 40},
             {label: unit, values: ticks(1), incrs: INCRS, size: 64}],
      cursor: {sync: {key: 'pda'}, drag: {x: true, y: false, setScale: false},
               bind: {dblclick: function () { return function () { setRange(0, T_END); return null; }; }}},
      hooks: {draw: [function (u) {   /* a dashed line at the end of the run, when the tail is drawn */
        if (T_RUN >= T_END || T_RUN < u.scales.x.min || T_RUN > u.scales.x.max) return;
        var x = Math.round(u.valToPos(T_RUN, 'x', true)), c = u.ctx;
        c.save();
        c.strokeStyle = '#555';
        c.setLineDash([3, 3]);
        c.beginPath();
        c.moveTo(x, u.bbox.top);
        c.lineTo(x, u.bbox.top + u.bbox.height);
        c.stroke();
        c.restore();
      }], setSelect: [function (u) {
        if (u.select.width > 2) {
          setRange(u.posToVal(u.select.left, 'x'), u.posToVal(u.select.left + u.select.width, 'x'));
          u.setSelect({left: 0, width: 0, top: 0, height: 0}, false);
        }
      }]}
    };
    var d0 = waveData(q, k, 0, T_END);
    w.u = make(b, opts, d0.concat(lines.map(function (L) { return d0[0].map(function () { return L.v; }); })));
    /* the wheel zooms about the cursor; with shift it pans */
    w.u.over.addEventListener('wheel', function (e) {
      e.preventDefault();
      var span = range[1] - range[0];
      if (e.shiftKey) { var dx = span * 0.1 * Math.sign(e.deltaY || e.deltaX); setRange(range[0] + dx, range[1] + dx); return; }
      var at = w.u.posToVal(e.offsetX, 'x'), f = e.deltaY < 0 ? 0.8 : 1.25;
      setRange(at - (at - range[0]) * f, at + (range[1] - at) * f);
    }, {passive: false});
    waves.push(w);
    return w;
  }

  function waveforms() {
    var root = document.getElementById('wave-plots'), bar = document.getElementById('wave-bar');
    bar.className = 'bar';
    var span = function () { return range[1] - range[0]; };
    [['reset', function () { setRange(0, T_END); }],
     ['zoom out', function () { var c = (range[0] + range[1]) / 2, s = span() * 2; setRange(c - s / 2, c + s / 2); }],
     ['\u2190 pan', function () { setRange(range[0] - span() / 4, range[1] - span() / 4); }],
     ['pan \u2192', function () { setRange(range[0] + span() / 4, range[1] + span() / 4); }]].forEach(function (x) {
      el('button', {type: 'button'}, bar, x[0]).addEventListener('click', x[1]);
    });
    rangeBox = el('span', {'class': 'range'}, bar);
    el('p', {'class': 'note'}, root, 'Drag across a plot to zoom every waveform to that stretch; the wheel zooms, ' +
       'shift+wheel pans, a double click or "reset" shows the whole run. Each step is the range (min to max) of ' +
       'the bins it covers; zoomed in near a kept event the bins themselves are drawn. Hover for values.' +
       (T_RUN < T_END ? ' The dashed line is the end of the schedule: past it the chip idles while its supply ' +
        'settles, and its droop and dI/dt there count for the events.' : ''));
    for (var ch = 0; ch < D.chips; ch++) {
      var pre = D.chips > 1 ? 'chip ' + ch + ': ' : '';
      var capL = D.power_cap_w ? [{label: 'power cap', v: D.power_cap_w, colour: '#d62728'}] : [];
      wavePlot(root, pre + 'power (sum of Vdd x I over the rails)' +
               (D.power_cap_w ? '' : ' \u2014 no power cap was given for this run'), 'p', ch, 'W', capL, true);
      for (var rl = 0; rl < NR; rl++) {
        var R = D.rails[rl], k = ch * NR + rl, nm = pre + 'rail ' + R.name + ': ';
        wavePlot(root, nm + 'current', 'i', k, 'A', [], true);
        wavePlot(root, nm + 'droop (positive: below Vdd)', 'd', k, 'mV',
                 [{label: 'guardband', v: R.guardband_mv, colour: '#d62728'}], true);
        wavePlot(root, nm + 'dI/dt over the rail\'s window', 'g', k, 'A/ns',
                 [{label: '+limit', v: R.didt_limit, colour: '#d62728'}, {label: '-limit', v: -R.didt_limit, colour: '#d62728'}], true);
      }
    }
  }

  /* ---- events --------------------------------------------------------- */

  var evRows = [];
  function zoomEvent(i, scroll) {
    var e = D.events[i];
    var pad = Math.max(0.5 * (e.t1 - e.t0), 2 * e.window_ns, 64 * D.bin_ns);
    setRange(e.t0 - pad, e.t1 + pad);
    evRows.forEach(function (r, j) { r.className = j === i ? 'ev-sel' : ''; });
    var det = document.getElementById('event-detail');
    det.textContent = '';
    var R = D.rails[e.rail];
    el('b', {}, det, 'Event ' + i + ': ' + (e.kind ? 'dI/dt ' + fmt(e.peak) + ' A/ns' : 'droop ' + fmt(e.peak) + ' mV') +
       ' on chip ' + e.chip + ', rail ' + R.name + ', ' + ftime(e.t0) + ' .. ' + ftime(e.t1) + ', worst at ' + ftime(e.tp) + '. ');
    el('span', {}, det, 'Causes (units whose current changed most over the ' + fmt(e.window_ns) + ' ns before the peak):');
    var ul = el('ul', {}, det);
    e.causes.forEach(function (c) {
      var li = el('li', {}, ul, c.unit + ': ' + (c.da >= 0 ? '+' : '') + fmt(c.da) + ' A');
      if (c.ops.length) li.appendChild(document.createTextNode('; instructions ' + c.ops.map(function (o) {
        return o[0] + ' (' + o[1] + ', line ' + o[2] + ')';
      }).join(', ')));
    });
    if (scroll) document.getElementById('waves').scrollIntoView();
  }
  function events() {
    var root = document.getElementById('event-list');
    el('p', {'class': 'note'}, root, D.events_total + ' events counted, ' + D.events_kept + ' kept with their causes (events.csv); ' +
       'the ' + D.events.length + ' most severe are listed here by severity (peak over the limit), droop and dI/dt together. ' +
       'Zoom sets every waveform to the event and shows its causes above the waveforms.');
    el('div', {id: 'event-detail'}, document.getElementById('wave-bar').parentNode.insertBefore(el('div'), document.getElementById('wave-plots')));
    var wrap = el('div', {'class': 'scroll'}, root), tb = el('table', {id: 'event-table'}, wrap);
    var hr = el('tr', {}, tb);
    ['#', '', 'kind', 'chip', 'rail', 'peak', 'limit', 'x limit', 'start', 'end', 'causes'].forEach(function (h) { el('th', {}, hr, h); });
    D.events.forEach(function (e, i) {
      var tr = el('tr', {}, tb);
      evRows.push(tr);
      el('td', {}, tr, String(i));
      var td = el('td', {}, tr), bt = el('button', {type: 'button', 'class': 'ev-zoom', 'data-event': String(i)}, td, 'zoom');
      bt.addEventListener('click', function () { zoomEvent(i, true); });
      el('td', {'class': 'l'}, tr, e.kind ? 'dI/dt' : 'droop');
      el('td', {}, tr, String(e.chip));
      el('td', {'class': 'l'}, tr, D.rails[e.rail].name);
      el('td', {}, tr, fmt(e.peak) + (e.kind ? ' A/ns' : ' mV'));
      el('td', {}, tr, fmt(e.limit) + (e.kind ? ' A/ns' : ' mV'));
      el('td', {}, tr, fmt(e.limit > 0 ? e.peak / e.limit : NaN, 3));
      el('td', {}, tr, ftime(e.t0, T_END));
      el('td', {}, tr, ftime(e.t1, T_END));
      el('td', {'class': 'l'}, tr, e.causes.map(function (c) { return c.unit + ' ' + (c.da >= 0 ? '+' : '') + fmt(c.da, 3) + ' A'; }).join(', '));
    });
  }

  /* ---- power breakdown ----------------------------------------------------- */

  function breakdown() {
    var root = document.getElementById('breakdown-plots');
    if (!D.breakdown.length) { el('p', {'class': 'note'}, root, 'The run is empty: no breakdown.'); return; }
    el('p', {'class': 'note'}, root, 'Each group\'s power (stacked), from its units\' energy in frames of ' +
       ftime(D.breakdown[0].dt_ns) + ' (idle draw included). Hover for each group\'s own share.');
    D.breakdown.forEach(function (bd) {
      var ng = bd.names.length, nt = ng ? bd.w[0].length : 0;
      for (var ch = 0; ch < D.chips; ch++) {
        var xs = [];
        for (var t = 0; t < nt; t++) xs.push(t * bd.dt_ns);
        var raw = bd.w.slice(ch * ng, (ch + 1) * ng), acc = xs.map(function () { return 0; }), data = [xs];
        raw.forEach(function (row) { acc = acc.map(function (a, t2) { return a + (row[t2] || 0); }); data.push(acc.slice()); });
        var series = [{label: 'time', value: function (u, v) { return v === null ? '-' : ftime(v); }}], bands = [];
        bd.names.forEach(function (nm, g) {
          series.push({label: nm, stroke: COL[g % COL.length], width: 1, fill: g === 0 ? COL[0] + '99' : undefined,
                       paths: uPlot.paths.stepped({align: 1}),
                       value: (function (gg) { return function (u, v, si, idx) { return idx === null || idx === undefined ? '-' : fmt(raw[gg][idx]) + ' W'; }; })(g)});
          if (g) bands.push({series: [g + 1, g], fill: COL[g % COL.length] + '99'});
        });
        var b = box(root, (D.chips > 1 ? 'chip ' + ch + ': ' : '') + 'power ' + bd.title);
        make(b, {width: width(root), height: 240, series: series, bands: bands,
                 scales: {x: {time: false}, y: {range: function (u, lo, hi) { return [0, hi * 1.05 || 1]; }}},
                 axes: [{values: timeAxis, incrs: INCRS, label: 'time', size: 40}, {label: 'W', values: ticks(1), incrs: INCRS, size: 64}]}, data);
      }
    });
  }

  /* ---- thermal ------------------------------------------------------------- */

  var CMAP = [[48, 18, 59], [65, 69, 171], [57, 162, 252], [27, 229, 181], [116, 254, 93], [201, 239, 52],
              [251, 185, 56], [245, 105, 24], [201, 41, 4], [122, 4, 3]];   /* turbo, 10 stops */
  function colour(f) {
    f = Math.max(0, Math.min(1, f)) * (CMAP.length - 1);
    var i = Math.min(CMAP.length - 2, Math.floor(f)), t = f - i, a = CMAP[i], b = CMAP[i + 1];
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }
  function niceStep(span, n) {
    var s = span / n, p = Math.pow(10, Math.floor(Math.log10(s))), m = s / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function heatmap(parent, th, map, dieIdx, lo, hi, title, tip) {
    var ML = 44, MB = 34, MT = 4, MR = 8, W = 300, H = Math.round(W * th.h_mm / th.w_mm);
    var wrap = el('div', {'class': 'heat plot'}, parent);
    el('div', {'class': 'cap'}, wrap, title);
    var cv = el('canvas', {width: W + ML + MR, height: H + MT + MB}, wrap), g = cv.getContext('2d');
    var img = g.createImageData(th.nx, th.ny);
    for (var y = 0; y < th.ny; y++)
      for (var x = 0; x < th.nx; x++) {
        var v = map[y * th.nx + x], c = colour((v - lo) / (hi - lo || 1)), o = 4 * ((th.ny - 1 - y) * th.nx + x);
        img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
      }
    var off = document.createElement('canvas');
    off.width = th.nx; off.height = th.ny;
    off.getContext('2d').putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, ML, MT, W, H);
    var sx = W / th.w_mm, sy = H / th.h_mm;
    var X = function (mm) { return ML + mm * sx; }, Y = function (mm) { return MT + H - mm * sy; };
    /* units */
    g.strokeStyle = 'rgba(255,255,255,0.55)'; g.lineWidth = 0.7;
    var units = th.units.filter(function (u) { return u.die === dieIdx; });
    units.forEach(function (u) { g.strokeRect(X(u.rect[0]), Y(u.rect[1] + u.rect[3]), u.rect[2] * sx, u.rect[3] * sy); });
    /* hotspots: the edges between cells above the threshold and the rest */
    var cw = W / th.nx, ch = H / th.ny, hot = function (xx, yy) {
      return xx >= 0 && yy >= 0 && xx < th.nx && yy < th.ny && map[yy * th.nx + xx] > th.hot_c;
    };
    g.strokeStyle = '#000'; g.lineWidth = 2; g.beginPath();
    for (var yy = 0; yy < th.ny; yy++)
      for (var xx = 0; xx < th.nx; xx++) {
        if (!hot(xx, yy)) continue;
        var x0 = ML + xx * cw, y1 = MT + H - yy * ch, y0 = y1 - ch;
        if (!hot(xx - 1, yy)) { g.moveTo(x0, y0); g.lineTo(x0, y1); }
        if (!hot(xx + 1, yy)) { g.moveTo(x0 + cw, y0); g.lineTo(x0 + cw, y1); }
        if (!hot(xx, yy - 1)) { g.moveTo(x0, y1); g.lineTo(x0 + cw, y1); }
        if (!hot(xx, yy + 1)) { g.moveTo(x0, y0); g.lineTo(x0 + cw, y0); }
      }
    g.stroke();
    /* mm axes */
    g.fillStyle = '#222'; g.strokeStyle = '#222'; g.lineWidth = 1; g.font = '11px sans-serif';
    g.strokeRect(ML, MT, W, H);
    var st = niceStep(th.w_mm, 5);
    g.textAlign = 'center';
    for (var m = 0; m <= th.w_mm + 1e-9; m += st) { g.beginPath(); g.moveTo(X(m), MT + H); g.lineTo(X(m), MT + H + 4); g.stroke(); g.fillText(fmt(m), X(m), MT + H + 15); }
    g.fillText('x (mm)', ML + W / 2, MT + H + 30);
    st = niceStep(th.h_mm, 5);
    g.textAlign = 'right';
    for (m = 0; m <= th.h_mm + 1e-9; m += st) { g.beginPath(); g.moveTo(ML - 4, Y(m)); g.lineTo(ML, Y(m)); g.stroke(); g.fillText(fmt(m), ML - 6, Y(m) + 4); }
    g.save(); g.translate(11, MT + H / 2); g.rotate(-Math.PI / 2); g.textAlign = 'center'; g.fillText('y (mm)', 0, 0); g.restore();
    cv.addEventListener('mousemove', function (e) {
      var r = cv.getBoundingClientRect(), mx = (e.clientX - r.left - ML) / sx, my = (MT + H - (e.clientY - r.top)) / sy;
      if (mx < 0 || my < 0 || mx > th.w_mm || my > th.h_mm) { tip.style.display = 'none'; return; }
      var cx = Math.min(th.nx - 1, Math.floor(mx / th.w_mm * th.nx)), cy = Math.min(th.ny - 1, Math.floor(my / th.h_mm * th.ny));
      var un = units.filter(function (u) { return mx >= u.rect[0] && mx <= u.rect[0] + u.rect[2] && my >= u.rect[1] && my <= u.rect[1] + u.rect[3]; });
      tip.textContent = (un.length ? un.map(function (u) { return u.name; }).join(', ') + ': ' : '') + fmt(map[cy * th.nx + cx]) +
        ' \u00b0C at (' + fmt(mx, 3) + ', ' + fmt(my, 3) + ') mm';
      tip.style.display = 'block'; tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
    });
    cv.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    wrap.setAttribute('data-drawn', '1');
    nDrawn++;
    plots.push(null);
  }
  function colourBar(parent, lo, hi) {
    var wrap = el('div', {'class': 'heat plot'}, parent);
    el('div', {'class': 'cap'}, wrap, '\u00b0C');
    var H = 300, cv = el('canvas', {width: 70, height: H + 20}, wrap), g = cv.getContext('2d');
    for (var y = 0; y < H; y++) { var c = colour(1 - y / H); g.fillStyle = 'rgb(' + c.map(Math.round).join(',') + ')'; g.fillRect(0, y + 6, 18, 1); }
    g.fillStyle = '#222'; g.font = '11px sans-serif';
    var st = niceStep(hi - lo || 1, 6);
    for (var v = Math.ceil(lo / st) * st; v <= hi + 1e-9; v += st) {
      var yy = 6 + H * (1 - (v - lo) / (hi - lo || 1));
      g.fillRect(18, yy, 4, 1); g.fillText(fmt(v), 25, yy + 4);
    }
    wrap.setAttribute('data-drawn', '1');
    nDrawn++;
    plots.push(null);
  }
  function table(parent, heads, rows, id) {
    var t = el('table', id ? {id: id} : {}, parent), tr = el('tr', {}, t);
    heads.forEach(function (h) { el('th', {}, tr, h); });
    rows.forEach(function (r) {
      var row = el('tr', {}, t);
      r.forEach(function (c, j) { el('td', typeof c === 'string' && j < 2 && isNaN(+c) ? {'class': 'l'} : {}, row, String(c)); });
    });
    return t;
  }
  function thermal() {
    var root = document.getElementById('thermal-body'), th = D.thermal;
    if (!th) { el('p', {'class': 'note'}, root, 'No thermal run (the chip has no "thermal" object, or --no-thermal).'); return; }
    var tip = el('div', {'class': 'tip'}, document.body);
    var which = el('div', {'class': 'bar'}, root), maps = el('div', {}, root);
    el('p', {'class': 'note'}, root, 'Black outlines: cells above the hotspot threshold (' + fmt(th.hot_c) + ' \u00b0C) in the map shown; ' +
       'white: the units (hover for names). One colour scale for all dies of a chip. Ambient ' + fmt(th.ambient_c) +
       ' \u00b0C, limit ' + fmt(th.limit_c) + ' \u00b0C.');
    var draw = function (kind) {
      maps.textContent = '';
      for (var ch = 0; ch < D.chips; ch++) {
        var mine = th.maps.filter(function (m) { return m.chip === ch; }), lo = Infinity, hi = -Infinity;
        mine.forEach(function (m) { m[kind].forEach(function (v) { if (v < lo) lo = v; if (v > hi) hi = v; }); });
        if (D.chips > 1) el('h3', {}, maps, 'chip ' + ch);
        mine.forEach(function (m) {
          var die = th.dies[m.die];
          heatmap(maps, th, m[kind], m.die, lo, hi, 'die ' + die.id + (die.name ? ' (' + die.name + ')' : '') + ', ' +
                  (kind === 'steady' ? 'steady state of the mean power' : 'hottest each cell gets'), tip);
        });
        colourBar(maps, lo, hi);
      }
    };
    ['steady', 'peak'].forEach(function (k) {
      el('button', {type: 'button'}, which, k === 'steady' ? 'steady map' : 'peak map').addEventListener('click', function () { draw(k); });
    });
    draw('peak');
    /* temperature against time */
    if (th.frames.t.length > 1) {
      var b = box(root, 'hottest cell of each die against time (transient frames)'), data = [th.frames.t];
      var series = [{label: 'time', value: function (u, v) { return v === null ? '-' : ftime(v); }}];
      th.frames.max.forEach(function (row, q) {
        var ch = Math.floor(q / th.dies.length), die = th.dies[q % th.dies.length];
        data.push(row);
        series.push({label: (D.chips > 1 ? 'chip ' + ch + ' ' : '') + 'die ' + die.id + (die.name ? ' ' + die.name : ''),
                     stroke: COL[q % COL.length], width: 1.5, value: function (u, v) { return v === null ? '-' : fmt(v) + ' \u00b0C'; }});
      });
      make(b, {width: width(root), height: 220, series: series, scales: {x: {time: false}},
               axes: [{values: timeAxis, incrs: INCRS, label: 'time (frame end)', size: 40}, {label: '\u00b0C', values: ticks(1), incrs: INCRS, size: 64}]}, data);
    } else {
      el('p', {'class': 'note'}, root, 'One thermal frame only: no temperature against time.');
    }
    el('h3', {}, root, 'Hotspots');
    if (!th.hotspots.length) el('p', {'class': 'note'}, root, 'No cell went above ' + fmt(th.hot_c) + ' \u00b0C.');
    else table(root, ['id', 'chip', 'die', 'peak (\u00b0C)', 'at', 'peak at x, y (mm)', 'area (mm\u00b2)', 'units by power share'],
               th.hotspots.map(function (h, i) {
                 return [i, h.chip, th.dies[h.die].id, fmt(h.peak_c), ftime(h.t_peak_ns), fmt(h.x_mm) + ', ' + fmt(h.y_mm), fmt(h.area_mm2), h.units];
               }), 'hotspot-table');
    el('h3', {}, root, 'Unit temperatures (hottest first)');
    var rows = th.unit_temps.slice().sort(function (a, b2) { return b2[4] - a[4]; });
    var wrap = el('div', {'class': 'scroll'}, root);
    table(wrap, ['unit', 'chip', 'die', 'steady max (\u00b0C)', 'run mean (\u00b0C)', 'run max (\u00b0C)', 'at'],
          rows.map(function (r) {
            var u = th.units[r[1]];
            return [u.name, r[0], th.dies[u.die].id, fmt(r[2]), fmt(r[3]), fmt(r[4]), ftime(r[5])];
          }), 'unit-temp-table');
  }

  /* ---- spectrum ---------------------------------------------------------- */

  function spectrum() {
    var root = document.getElementById('spectrum-plots');
    D.spectrum.forEach(function (s) {
      var b = box(root, 'chip ' + s.chip + ', rail ' + D.rails[s.rail].name + ': current spectrum and |Z(f)|');
      if (s.f.length < 2) { el('p', {'class': 'note'}, b, 'Too short a run for a spectrum.'); drawn(b)(); plots.push(null); return; }
      /* decades labelled (with k, M, G), the ticks between them left blank */
      var si = function (v) {
        var p = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']].filter(function (x) { return Math.abs(v) >= x[0]; })[0];
        return p ? fmt(v / p[0], 3) + p[1] : fmt(v, 3);
      };
      var logTicks = function (u, splits) {
        return splits.map(function (v) {
          if (v === null || !(v > 0)) return '';
          var l = Math.log10(v);
          return Math.abs(l - Math.round(l)) < 1e-6 ? si(v) : '';
        });
      };
      make(b, {width: width(root), height: 260,
               scales: {x: {time: false, distr: 3}, A: {distr: 3}, Z: {distr: 3}},
               series: [{label: 'f', value: function (u, v) { return v === null ? '-' : fmt(v / 1e6, 4) + ' MHz'; }},
                        {label: 'current amplitude', scale: 'A', stroke: COL[0], width: 1, value: function (u, v) { return fmt(v) + ' A'; }},
                        {label: '|Z(f)|', scale: 'Z', stroke: COL[3], width: 2, value: function (u, v) { return fmt(v) + ' mOhm'; }}],
               axes: [{label: 'frequency (Hz)', values: logTicks, size: 40},
                      {scale: 'A', label: 'current (A)', values: logTicks, size: 64, stroke: COL[0]},
                      {scale: 'Z', label: '|Z| (mOhm)', side: 1, values: logTicks, size: 64, stroke: COL[3], grid: {show: false}}]},
           [s.f, s.a.map(function (v) { return v > 0 ? v : null; }), s.z]);
    });
  }

  /* ---- summary ------------------------------------------------------------- */

  function summary() {
    var root = document.getElementById('summary-tables'), S = D.summary;
    if (!S) return;
    var kv = function (title, obj, units) {
      el('h3', {}, root, title);
      var rows = [];
      for (var k in obj) if (typeof obj[k] !== 'object') rows.push([k, typeof obj[k] === 'number' ? fmt(obj[k], 6) + (units && units[k] ? ' ' + units[k] : '') : String(obj[k])]);
      table(root, ['', ''], rows);
    };
    if (S.schedule) {
      kv('Schedule', S.schedule, {makespan_ns: 'ns'});
      var cl = S.schedule.classes || {}, rows = [];
      for (var c in cl) rows.push([c, cl[c].units, cl[c].ops, fmt(100 * cl[c].busy_share, 3) + ' %']);
      el('h3', {}, root, 'Unit classes');
      table(root, ['class', 'units', 'instructions', 'busy share'], rows);
      if (S.schedule.deps) kv('Dependencies', S.schedule.deps);
    }
    if (S.power) kv('Power', S.power, {peak_w: 'W', avg_w: 'W', peak_window_w: 'W', t_peak_ns: 'ns', window_ns: 'ns', energy_j: 'J', bin_ns: 'ns'});
    if (S.rails) {
      el('h3', {}, root, 'Rails');
      var keys = ['chip', 'rail', 'peak_a', 'avg_a', 'max_didt_a_per_ns', 'max_droop_mv', 't_max_droop_ns', 'guardband_mv',
                  'needed_guardband_mv', 'saving_w', 'droop_events', 'didt_events'];
      table(root, keys.map(function (k) { return k.replace(/_/g, ' '); }), S.rails.map(function (r) {
        return keys.map(function (k) { return typeof r[k] === 'number' && k !== 'chip' ? fmt(r[k], 5) : r[k]; });
      }), 'rail-summary');
    }
    if (S.thermal && typeof S.thermal === 'object') kv('Thermal', S.thermal);
  }

  function toc() {
    var nav = document.getElementById('toc');
    document.querySelectorAll('section[id] > h2').forEach(function (h) {
      el('a', {href: '#' + h.parentNode.id}, nav, h.textContent);
    });
  }

  function run(name, f) {
    try { f(); } catch (e) { window.pdaErrors.push(name + ': ' + (e && e.stack || e)); }
  }
  run('toc', toc);
  run('waveforms', waveforms);
  run('events', events);
  run('breakdown', breakdown);
  run('thermal', thermal);
  run('spectrum', spectrum);
  run('summary', summary);
  var m = /#event=(\d+)/.exec(location.hash);
  if (m && D.events[+m[1]]) run('event', function () { zoomEvent(+m[1]); });
  else setRange(0, T_END);
  /* ready once every plot has drawn (and the range is applied) */
  var tries = 0;
  (function check() {
    if (pending || (nDrawn < plots.length && tries++ < 200)) { requestAnimationFrame(check); return; }
    document.body.setAttribute('data-errors', String(window.pdaErrors.length));
    if (window.pdaErrors.length) el('pre', {id: 'pda-errors'}, document.body, window.pdaErrors.join('\n'));
    document.body.setAttribute('data-plots', String(plots.length));
    document.body.setAttribute('data-ready', String(nDrawn));
  })();
})();

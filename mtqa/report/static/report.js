/* mtqa editor report: review flags, edit in place, export. Document text only ever enters
   the page through textContent / createTextNode, never as markup. */
(function () {
  'use strict';

  const D = JSON.parse(document.getElementById('mtqa-data').textContent);
  const S = D.sents;
  const KNOWN_REASONS = ['fluency', 'mistranslation', 'grammar', 'number', 'name', 'untranslated',
    'repetition', 'punctuation', 'length', 'omission', 'addition', 'consistency'];
  const ACTION_LABEL = { accepted: 'accepted', dismissed: 'dismissed', edited: 'edited' };

  const byId = (id) => document.getElementById(id);
  const detail = byId('mtqa-detail');
  const tip = byId('mtqa-tip');
  const live = byId('mtqa-status');

  const sentEls = new Array(S.length);   // reading position -> sentence element
  const itemEls = new Array(S.length);   // reading position -> flag list button
  const reasonsOf = new Array(S.length); // reading position -> reasons incl. span reasons
  const ranked = [];                     // flag positions in list order
  let visible = [];                      // ranked positions passing the filters
  let visibleAt = new Map();             // position -> index in `visible`
  let cur = -1;                          // selected sentence position
  let editing = -1;                      // position being edited in place
  let tipMark = null;
  let state = { v: 1, items: {}, events: [] };

  /* ------------------------------------------------------------------ helpers */

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fmt(score) { return Number(score).toFixed(2); }
  function now() { return new Date().toISOString(); }
  function announce(msg) { live.textContent = msg; }
  function item(pos) { return state.items[pos] || null; }
  function textOf(pos) { const it = item(pos); return it ? it.text : S[pos].t; }
  function isDone(pos) { const it = item(pos); return !!(it && it.action); }

  function activeSpans(pos) {
    const it = item(pos);
    if (it && it.spans) return it.spans;
    const out = [];
    S[pos].spans.forEach((sp, k) => { if (sp.shown) out.push({ k: k, a: sp.a, b: sp.b }); });
    return out;
  }

  function reasonClass(reason) {
    return KNOWN_REASONS.indexOf(reason) >= 0 ? reason : 'other';
  }

  function sevClass(sev) { return sev === 'major' ? 'major' : 'minor'; }

  /* ------------------------------------------------------------------ storage */

  function load() {
    let raw = null;
    try { raw = window.localStorage.getItem(D.key); } catch (e) { return; }
    if (!raw) return;
    try {
      const saved = JSON.parse(raw);
      if (!saved || saved.v !== 1 || typeof saved.items !== 'object') return;
      Object.keys(saved.items).forEach((key) => {
        const pos = Number(key);
        const it = saved.items[key];
        if (S[pos] && it && it.before === S[pos].t && typeof it.text === 'string') {
          state.items[pos] = it;
        }
      });
      state.events = Array.isArray(saved.events) ? saved.events : [];
    } catch (e) { /* corrupt state: start afresh */ }
  }

  function save() {
    try { window.localStorage.setItem(D.key, JSON.stringify(state)); } catch (e) {
      announce('Review state could not be saved in this browser.');
    }
  }

  /* ------------------------------------------------------------------ rendering */

  function renderSentence(pos) {
    const node = sentEls[pos];
    const text = textOf(pos);
    const spans = activeSpans(pos).slice().sort((x, y) => x.a - y.a);
    const frag = document.createDocumentFragment();
    let cursor = 0;
    spans.forEach((r) => {
      if (r.a < cursor || r.b > text.length) return;
      if (r.a > cursor) frag.appendChild(document.createTextNode(text.slice(cursor, r.a)));
      const sp = S[pos].spans[r.k];
      const mark = el('mark', 'hl sev-' + sevClass(sp.sev) + ' r-' + reasonClass(sp.reason),
        text.slice(r.a, r.b));
      mark.dataset.k = String(r.k);
      mark.tabIndex = 0;
      frag.appendChild(mark);
      cursor = r.b;
    });
    if (cursor < text.length) frag.appendChild(document.createTextNode(text.slice(cursor)));
    node.textContent = '';
    node.appendChild(frag);
  }

  function statusOf(pos) {
    const it = item(pos);
    if (!it) return '';
    if (it.action) return ACTION_LABEL[it.action] || '';
    return it.text !== S[pos].t ? 'edited' : '';
  }

  function refresh(pos, rerender, quiet) {
    if (rerender) renderSentence(pos);
    const node = sentEls[pos];
    const it = item(pos);
    const action = it ? it.action : null;
    node.classList.toggle('st-accepted', action === 'accepted');
    node.classList.toggle('st-dismissed', action === 'dismissed');
    node.classList.toggle('st-edited', !!it && it.text !== S[pos].t);
    const button = itemEls[pos];
    if (button) {
      const st = button.querySelector('[data-st]');
      const label = statusOf(pos);
      st.textContent = label;
      st.className = 'st ' + label;
      button.classList.toggle('done', isDone(pos));
    }
    if (quiet) return;
    updateReviewed();
    if (byId('f-status').value) applyFilters();
    if (pos === cur) renderDetail(pos);
  }

  function updateReviewed() {
    let done = 0;
    Object.keys(state.items).forEach((key) => { if (S[key].flagged && isDone(key)) done += 1; });
    byId('c-reviewed').textContent = done + ' / ' + ranked.length;
  }

  /* ------------------------------------------------------------------ detail panel */

  function textBlock(title, text) {
    const box = el('div');
    box.appendChild(el('h3', null, title));
    box.appendChild(el('p', null, text));
    return box;
  }

  function actionButton(label, key, handler, pressed, hint) {
    const b = el('button', 'act', label);
    b.type = 'button';
    if (hint) b.title = hint + ' (' + key + ')';
    b.setAttribute('aria-keyshortcuts', key);
    if (pressed !== undefined) b.setAttribute('aria-pressed', pressed ? 'true' : 'false');
    b.addEventListener('click', handler);
    return b;
  }

  function renderIssues(pos) {
    const s = S[pos];
    const active = new Set(activeSpans(pos).map((r) => r.k));
    const list = el('ul', 'issues');
    list.setAttribute('aria-label', 'Issues');
    s.spans.forEach((sp, k) => {
      const li = el('li');
      const head = el('div');
      head.appendChild(el('span', 'badge sev-' + sevClass(sp.sev), sp.reason));
      head.appendChild(document.createTextNode(' '));
      const quote = el('span', 'quote', '\u201c' + sp.text + '\u201d');
      if (!active.has(k) && item(pos)) quote.classList.add('resolved');
      head.appendChild(quote);
      li.appendChild(head);
      if (sp.msg) li.appendChild(el('div', 'msg', sp.msg));
      if (active.has(k) && sp.sugg.length && editing !== pos) {
        const box = el('div', 'sugg');
        box.setAttribute('role', 'group');
        box.setAttribute('aria-label', 'Suggestions');
        sp.sugg.forEach((sugg, j) => {
          const b = el('button', 'use', 'Use \u201c' + sugg + '\u201d');
          b.type = 'button';
          if (sp.why && sp.why[j]) b.title = sp.why[j];
          b.setAttribute('aria-label', 'Replace \u201c' + sp.text + '\u201d with \u201c' + sugg + '\u201d');
          b.addEventListener('click', () => applySuggestion(pos, k, sugg));
          box.appendChild(b);
        });
        li.appendChild(box);
      }
      list.appendChild(li);
    });
    return list;
  }

  function renderActions(pos) {
    const box = el('div', 'actions');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Review actions');
    const action = item(pos) ? item(pos).action : null;
    if (editing === pos) {
      box.appendChild(actionButton('Save edit', 'Enter', saveEdit));
      box.appendChild(actionButton('Cancel', 'Escape', cancelEdit));
      return box;
    }
    if (S[pos].flagged) {
      box.appendChild(actionButton('Accept', 'a', () => review(pos, 'accepted'),
        action === 'accepted', 'The flag is right: a real problem (text kept as is)'));
      box.appendChild(actionButton('Dismiss', 'd', () => review(pos, 'dismissed'),
        action === 'dismissed', 'False alarm: the sentence is fine'));
    }
    box.appendChild(actionButton('Edit', 'e', () => startEdit(pos), undefined,
      'Edit the sentence in place'));
    if (item(pos)) {
      box.appendChild(actionButton('Undo', 'u', () => resetSentence(pos), undefined,
        'Restore the original sentence and clear its review'));
    }
    return box;
  }

  function renderDetail(pos) {
    const s = S[pos];
    detail.textContent = '';
    const h = el('h2', null, 'Sentence ' + (s.index + 1) + ' ');
    if (s.sev) h.appendChild(el('span', 'badge sev-' + sevClass(s.sev), s.sev));
    detail.appendChild(h);
    const reasons = reasonsOf[pos] || [];
    detail.appendChild(el('p', 'meta', 'Score ' + fmt(s.score) +
      (reasons.length ? ' \u00b7 ' + reasons.join(', ') : '') +
      (s.seg ? ' \u00b7 segment ' + s.seg : '')));
    detail.appendChild(el('p', 'status', 'Status: ' + (statusOf(pos) || (s.flagged ? 'to review' : 'not flagged'))));
    detail.appendChild(renderActions(pos));
    const grid = el('div', 'compare');
    if (s.src !== null && s.src !== undefined) grid.appendChild(textBlock('Source', s.src));
    grid.appendChild(textBlock(textOf(pos) === s.t ? 'Target' : 'Target (edited)', textOf(pos)));
    if (s.ref !== null && s.ref !== undefined) grid.appendChild(textBlock('Reference', s.ref));
    if (textOf(pos) !== s.t) grid.appendChild(textBlock('Original target', s.t));
    detail.appendChild(grid);
    if (s.spans.length) detail.appendChild(renderIssues(pos));
  }

  /* ------------------------------------------------------------------ review actions */

  function record(pos, changes, extra) {
    const before = textOf(pos);
    const it = item(pos) || { before: S[pos].t, text: S[pos].t, spans: null, action: null };
    Object.assign(it, changes, { ts: now() });
    state.items[pos] = it;
    const event = { sentence: S[pos].index, action: it.action, before: before, after: it.text,
      timestamp: it.ts };
    if (extra) Object.assign(event, extra);
    state.events.push(event);
    save();
  }

  function review(pos, action) {
    if (pos < 0 || !S[pos].flagged) return;
    if (editing === pos) saveEdit();
    record(pos, { action: action });
    refresh(pos, false);
    announce('Sentence ' + (S[pos].index + 1) + ' ' + action + '.');
  }

  function applySuggestion(pos, k, sugg) {
    const spans = activeSpans(pos);
    const hit = spans.find((r) => r.k === k);
    if (!hit) return;
    const text = textOf(pos);
    const delta = sugg.length - (hit.b - hit.a);
    const rest = spans.filter((r) => r.k !== k && (r.b <= hit.a || r.a >= hit.b))
      .map((r) => (r.a >= hit.b ? { k: r.k, a: r.a + delta, b: r.b + delta } : r));
    record(pos, { text: text.slice(0, hit.a) + sugg + text.slice(hit.b), spans: rest,
      action: 'edited' }, { suggestion: sugg, span: S[pos].spans[k].text,
      reason: S[pos].spans[k].reason });
    refresh(pos, true);
    announce('Replaced \u201c' + S[pos].spans[k].text + '\u201d with \u201c' + sugg + '\u201d.');
  }

  function resetSentence(pos) {
    if (pos < 0 || !item(pos)) return;
    if (editing === pos) stopEdit();
    const before = textOf(pos);
    delete state.items[pos];
    state.events.push({ sentence: S[pos].index, action: 'reset', before: before,
      after: S[pos].t, timestamp: now() });
    save();
    refresh(pos, true);
    announce('Sentence ' + (S[pos].index + 1) + ' restored.');
  }

  /* ------------------------------------------------------------------ edit in place */

  function placeCaretAtEnd(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    range.collapse(false);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function startEdit(pos) {
    if (pos < 0) return;
    if (editing >= 0 && editing !== pos) saveEdit();
    if (cur !== pos) select(pos, { focus: false, scroll: true });
    hideTip();
    editing = pos;
    const node = sentEls[pos];
    node.textContent = textOf(pos);
    node.classList.add('editing');
    node.contentEditable = 'plaintext-only';
    if (node.contentEditable !== 'plaintext-only') node.contentEditable = 'true';
    node.setAttribute('role', 'textbox');
    node.setAttribute('aria-label', 'Edit sentence ' + (S[pos].index + 1) + '; Enter saves, Escape cancels');
    node.tabIndex = 0;
    node.focus();
    placeCaretAtEnd(node);
    renderDetail(pos);
    announce('Editing sentence ' + (S[pos].index + 1) + '.');
  }

  function stopEdit() {
    const pos = editing;
    if (pos < 0) return -1;
    const node = sentEls[pos];
    node.removeAttribute('contenteditable');
    node.removeAttribute('role');
    node.removeAttribute('aria-label');
    node.classList.remove('editing');
    if (S[pos].flagged) node.tabIndex = -1; else node.removeAttribute('tabindex');
    editing = -1;
    return pos;
  }

  function saveEdit() {
    const pos = editing;
    if (pos < 0) return;
    const typed = sentEls[pos].textContent.replace(/\s*[\r\n]+\s*/g, ' ');
    stopEdit();
    if (typed !== textOf(pos)) {
      record(pos, { text: typed, spans: typed === S[pos].t ? null : [], action: 'edited' });
      announce('Sentence ' + (S[pos].index + 1) + ' edited.');
    }
    refresh(pos, true);
    focusSentence(pos);
  }

  function cancelEdit() {
    const pos = stopEdit();
    if (pos < 0) return;
    refresh(pos, true);
    focusSentence(pos);
    announce('Edit cancelled.');
  }

  /* ------------------------------------------------------------------ selection */

  function focusSentence(pos) {
    const node = sentEls[pos];
    if (node.tabIndex < 0 && !S[pos].flagged) return;
    node.focus({ preventScroll: true });
  }

  function select(pos, opts) {
    const o = opts || {};
    if (editing >= 0 && editing !== pos) saveEdit();
    if (cur >= 0) {
      sentEls[cur].classList.remove('current');
      if (itemEls[cur]) itemEls[cur].removeAttribute('aria-current');
    }
    cur = pos;
    const node = sentEls[pos];
    node.classList.add('current');
    if (itemEls[pos]) {
      itemEls[pos].setAttribute('aria-current', 'true');
      itemEls[pos].scrollIntoView({ block: 'nearest' });
    }
    if (o.scroll !== false) node.scrollIntoView({ block: 'center' });
    if (o.focus !== false) focusSentence(pos);
    renderDetail(pos);
    const s = S[pos];
    announce('Sentence ' + (s.index + 1) + (s.sev ? ', ' + s.sev : '') + ', score ' + fmt(s.score) +
      (statusOf(pos) ? ', ' + statusOf(pos) : '') + '.');
  }

  function step(dir) {
    if (!visible.length) { announce('No flags match the filters.'); return; }
    let at = visibleAt.has(cur) ? visibleAt.get(cur) + dir : (dir > 0 ? 0 : visible.length - 1);
    if (at < 0 || at >= visible.length) {
      announce(dir > 0 ? 'Last flag.' : 'First flag.');
      at = Math.max(0, Math.min(visible.length - 1, at));
    }
    select(visible[at], { focus: true, scroll: true });
  }

  /* ------------------------------------------------------------------ filters */

  function applyFilters() {
    const sev = byId('f-sev').value;
    const reason = byId('f-reason').value;
    const status = byId('f-status').value;
    visible = [];
    visibleAt = new Map();
    ranked.forEach((pos) => {
      const ok = (!sev || S[pos].sev === sev) &&
        (!reason || reasonsOf[pos].indexOf(reason) >= 0) &&
        (!status || (status === 'done') === isDone(pos));
      itemEls[pos].parentNode.hidden = !ok;
      if (ok) { visibleAt.set(pos, visible.length); visible.push(pos); }
    });
    byId('f-shown').textContent = 'Showing ' + visible.length + ' of ' + ranked.length;
  }

  /* ------------------------------------------------------------------ tooltip */

  function showTip(mark) {
    const sentence = mark.closest('.sent');
    if (!sentence || editing >= 0) return;
    const pos = Number(sentence.dataset.s);
    const sp = S[pos].spans[Number(mark.dataset.k)];
    if (!sp) return;
    tip.textContent = '';
    tip.appendChild(el('div', 'tip-h', sp.reason + ' \u00b7 ' + sp.sev));
    if (sp.msg) tip.appendChild(el('div', null, sp.msg));
    tip.appendChild(el('div', 'tip-s', 'Sentence score ' + fmt(S[pos].score)));
    if (sp.sugg.length) tip.appendChild(el('div', 'tip-s', 'Suggestions: ' + sp.sugg.join(' | ')));
    tip.hidden = false;
    const rect = mark.getBoundingClientRect();
    const width = tip.offsetWidth;
    const left = Math.max(4, Math.min(rect.left, document.documentElement.clientWidth - width - 8));
    tip.style.left = (left + window.scrollX) + 'px';
    tip.style.top = (rect.bottom + window.scrollY + 6) + 'px';
    if (tipMark && tipMark !== mark) tipMark.removeAttribute('aria-describedby');
    mark.setAttribute('aria-describedby', 'mtqa-tip');
    tipMark = mark;
  }

  function hideTip() {
    tip.hidden = true;
    if (tipMark) tipMark.removeAttribute('aria-describedby');
    tipMark = null;
  }

  /* ------------------------------------------------------------------ export */

  function correctedText() {
    const parts = [D.gaps[0]];
    for (let pos = 0; pos < S.length; pos += 1) parts.push(textOf(pos), D.gaps[pos + 1]);
    return parts.join('');
  }

  function reviewLog() {
    const reviews = [];
    const tally = { accepted: 0, dismissed: 0, edited: 0 };
    Object.keys(state.items).map(Number).sort((x, y) => x - y).forEach((pos) => {
      const it = state.items[pos];
      const s = S[pos];
      if (it.action) tally[it.action] = (tally[it.action] || 0) + 1;
      reviews.push({ sentence: s.index, segment_id: s.seg, flagged: s.flagged, severity: s.sev,
        score: s.score, reasons: reasonsOf[pos] || [], action: it.action || 'edited',
        before: s.t, after: it.text, timestamp: it.ts });
    });
    return {
      format: 'mtqa-review-log/1', doc_id: D.doc_id, doc_hash: D.doc_hash,
      signature: D.signature, exported_at: now(),
      counts: { sentences: S.length, flagged: ranked.length,
        reviewed: ranked.filter(isDone).length, accepted: tally.accepted,
        dismissed: tally.dismissed, edited: tally.edited },
      reviews: reviews,
      pending: ranked.filter((pos) => !isDone(pos)).map((pos) => S[pos].index),
      events: state.events,
    };
  }

  function baseName() {
    const raw = D.doc_id || (D.doc_hash ? D.doc_hash.slice(0, 12) : 'document');
    return raw.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|[._]+$/g, '').slice(0, 80) || 'document';
  }

  function download(name, mime, text) {
    const url = URL.createObjectURL(new Blob([text], { type: mime + ';charset=utf-8' }));
    const a = el('a');
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /* ------------------------------------------------------------------ events */

  function onKey(e) {
    const t = e.target;
    if (editing >= 0 && t === sentEls[editing]) {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); saveEdit(); }
      else if (e.key === 'Escape') { e.preventDefault(); cancelEdit(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    const handlers = {
      j: () => step(1), ArrowDown: () => step(1),
      k: () => step(-1), ArrowUp: () => step(-1),
      a: () => review(cur, 'accepted'), d: () => review(cur, 'dismissed'),
      e: () => startEdit(cur), u: () => resetSentence(cur),
      Escape: hideTip,
    };
    const handler = handlers[e.key];
    if (!handler) return;
    if ((e.key === 'a' || e.key === 'd' || e.key === 'e' || e.key === 'u') && cur < 0) {
      announce('Select a sentence first (press j).');
      return;
    }
    e.preventDefault();
    handler();
  }

  function onDocClick(e) {
    const sentence = e.target.closest('.sent');
    if (!sentence) return;
    const pos = Number(sentence.dataset.s);
    if (pos === editing) return;
    select(pos, { focus: !e.target.closest('mark'), scroll: false });
  }

  function onMarkKey(e) {
    const mark = e.target.closest && e.target.closest('mark.hl');
    if (!mark || (e.key !== 'Enter' && e.key !== ' ')) return;
    e.preventDefault();
    select(Number(mark.closest('.sent').dataset.s), { focus: false, scroll: false });
  }

  function bind() {
    document.addEventListener('keydown', onKey);
    const doc = byId('mtqa-doc');
    doc.addEventListener('click', onDocClick);
    doc.addEventListener('keydown', onMarkKey);
    doc.addEventListener('mouseover', (e) => {
      const mark = e.target.closest('mark.hl');
      if (mark) showTip(mark);
    });
    doc.addEventListener('mouseout', (e) => {
      const mark = e.target.closest('mark.hl');
      if (mark && !mark.contains(e.relatedTarget) && document.activeElement !== mark) hideTip();
    });
    doc.addEventListener('focusin', (e) => { if (e.target.matches('mark.hl')) showTip(e.target); });
    doc.addEventListener('focusout', (e) => { if (e.target.matches('mark.hl')) hideTip(); });
    const list = byId('flag-list');
    if (list) {
      list.addEventListener('click', (e) => {
        const b = e.target.closest('button.flag-item');
        if (b) select(Number(b.dataset.s), { focus: false, scroll: true });
      });
    }
    ['f-sev', 'f-reason', 'f-status'].forEach((id) => byId(id).addEventListener('change', applyFilters));
    byId('export-txt').addEventListener('click', () => {
      if (editing >= 0) saveEdit();
      download(baseName() + '.corrected.txt', 'text/plain', correctedText());
    });
    byId('export-json').addEventListener('click', () => {
      if (editing >= 0) saveEdit();
      download(baseName() + '.review.json', 'application/json', JSON.stringify(reviewLog(), null, 2));
    });
  }

  function init() {
    document.querySelectorAll('#mtqa-doc .sent[data-s]').forEach((node) => {
      sentEls[Number(node.dataset.s)] = node;
    });
    document.querySelectorAll('#flag-list button.flag-item').forEach((b) => {
      const pos = Number(b.dataset.s);
      itemEls[pos] = b;
      ranked.push(pos);
    });
    S.forEach((s, pos) => {
      if (!s.flagged) return;
      const all = new Set(s.reasons);
      s.spans.forEach((sp) => all.add(sp.reason));
      reasonsOf[pos] = Array.from(all).sort();
    });
    load();
    Object.keys(state.items).forEach((key) => refresh(Number(key), true, true));
    applyFilters();
    updateReviewed();
    bind();
    document.body.dataset.mtqaReady = '1';
  }

  init();
}());

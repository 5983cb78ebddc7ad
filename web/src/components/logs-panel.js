// The admin dashboard's log view: the recent log entries of every node of
// the cluster (GET /api/v1/admin/logs, merged by time on the server),
// newest first, filtered by level, node and text, and refreshed with the
// rest of the dashboard while "Auto-refresh" is on.
import { h } from '../lib/dom.js';
import { getJSON } from '../lib/api.js';
import { entryFields, logLevels } from '../lib/logs.js';

const LIMIT = 200;
const SEARCH_DELAY_MS = 300;

/**
 * logsPanel(ctx, { panel, guarded }) → { el, load, poll }: panel and
 * guarded are the dashboard's section frame and error handling; poll()
 * loads only while auto-refresh is on.
 */
export function logsPanel(ctx, { panel, guarded }) {
  const { signal } = ctx;
  const level = h('select', { id: 'logs-level', class: 'select', 'data-testid': 'logs-level' },
    logLevels.map(([v, label]) => h('option', { value: v }, label)));
  const node = h('select', { id: 'logs-node', class: 'select', 'data-testid': 'logs-node' },
    h('option', { value: '' }, 'All nodes'));
  const q = h('input', { id: 'logs-q', type: 'search', placeholder: 'Text, request ID…',
    autocomplete: 'off', spellcheck: 'false', 'data-testid': 'logs-q' });
  const auto = h('input', { id: 'logs-auto', type: 'checkbox', checked: true, 'data-testid': 'logs-auto' });
  const summary = h('p', { class: 'muted', 'data-testid': 'logs-summary', role: 'status' });
  const status = h('div');
  const list = h('ol', { class: 'rows log-list', 'data-testid': 'log-list', 'aria-live': 'off' });
  let seq = 0; // answers to an older query are dropped

  function row(e) {
    const fields = entryFields(e.fields);
    return h('li', { class: `log-entry log-${e.level}`, 'data-testid': 'log-entry', 'data-node': e.node, 'data-level': e.level },
      h('p', { class: 'log-head' },
        h('time', { datetime: e.time, title: e.time }, new Date(e.time).toLocaleTimeString()),
        h('span', { class: `pill log-level${e.level === 'error' ? ' pill-danger' : ''}` }, e.level),
        h('span', { class: 'log-node' }, e.node),
        e.logger ? h('span', { class: 'log-logger' }, e.logger) : null),
      h('p', { class: 'log-msg' }, e.msg),
      fields ? h('p', { class: 'log-fields' }, fields) : null);
  }

  function fillNodes(nodes) {
    const want = node.value;
    const ids = nodes.map((n) => n.id);
    if (want && !ids.includes(want)) ids.push(want); // keep the choice while its node is away
    const current = [...node.options].slice(1).map((o) => o.value);
    if (current.join('\n') === ids.join('\n')) return;
    node.replaceChildren(h('option', { value: '' }, 'All nodes'), ...ids.map((id) => h('option', { value: id }, id)));
    node.value = want;
  }

  async function load() {
    const mine = ++seq;
    await guarded(status, 'the logs', ctx, async () => {
      const params = new URLSearchParams({ level: level.value, limit: String(LIMIT) });
      if (node.value) params.set('node', node.value);
      if (q.value.trim()) params.set('q', q.value.trim());
      const view = await getJSON(`/api/v1/admin/logs?${params}`, { signal });
      if (mine !== seq) return;
      const entries = (view.entries || []).slice().reverse();
      const nodes = view.nodes || [];
      if (!node.value) fillNodes(nodes);
      const away = nodes.filter((n) => n.problem);
      summary.replaceChildren(
        `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} from ${nodes.length - away.length} of ${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'}`
        + (entries.length >= LIMIT ? ` (the newest ${LIMIT})` : ''),
        ...away.map((n) => h('span', { class: 'error-text' }, ` · ${n.id} did not answer: ${n.problem}`)));
      list.replaceChildren(...(entries.length ? entries.map(row) : [h('li', { class: 'row muted' }, 'No entries match.')]));
    });
  }

  let timer = 0;
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(load, SEARCH_DELAY_MS);
  });
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  level.addEventListener('change', () => load());
  node.addEventListener('change', () => load());
  auto.addEventListener('change', () => { if (auto.checked) load(); });

  const el = panel('logs-title', 'Logs',
    'The latest entries each node keeps in memory (its last 2000), newest first. Search finds text in the message, the logger and the fields, a request ID among them.',
    h('div', { class: 'log-filters' },
      h('div', { class: 'field field-inline' }, h('label', { for: 'logs-level' }, 'Level'), level),
      h('div', { class: 'field field-inline' }, h('label', { for: 'logs-node' }, 'Node'), node),
      h('div', { class: 'field field-inline log-search' }, h('label', { for: 'logs-q' }, 'Search'), q),
      h('label', { class: 'log-auto' }, auto, ' Auto-refresh')),
    summary, status, list);
  return { el, load, poll: () => (auto.checked ? load() : Promise.resolve()) };
}

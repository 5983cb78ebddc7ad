// /admin: the admin dashboard. Nodes (roles, leader, health, disk), the
// edge registry (components/edges-panel.js, drawn from the nodes' answer) and
// the job queue (running, queued, failed with the reason, retry) refresh every
// few seconds; edge cache charts (hit ratio and bandwidth over the last
// day, per edge and summed), playback charts (plays, startup time and
// rebuffer ratio per day), users (role, disabled, quotas) and moderation (take a video down,
// delete it) load once and on demand. The cluster's logs (components/logs-panel.js)
// refresh with the nodes while their auto-refresh is on.
import { h, icon, ICONS, sleep } from '../lib/dom.js';
import { getJSON, isAbort, sendJSON, videoURL, watchPath } from '../lib/api.js';
import { currentUser, sessionEnded } from '../lib/auth.js';
import { formatBytes, formatDate, timeAgo } from '../lib/format.js';
import { diskPercent, formatMs, formatPercent, formatRate, mbToQuota, quotaToMB, sortJobs } from '../lib/admin.js';
import { edgePeriods, edgeSeries, lastDays, lastPeriods, mergePeriods, series } from '../lib/chart.js';
import { chart } from '../components/chart.js';
import { logsPanel } from '../components/logs-panel.js';
import { edgesPanel } from '../components/edges-panel.js';
import { errorBox, loginRequired, statusLine } from './common.js';

const ADMIN = '/api/v1/admin';
export const POLL_MS = 5000;

export default async function admin({ root, signal }) {
  document.title = 'Admin · Strata';
  let me;
  try {
    me = await currentUser();
  } catch (err) {
    root.append(errorBox("Couldn't load your account", err.message));
    return;
  }
  if (signal.aborted) return;
  if (!me) {
    loginRequired(root, { title: 'Log in to see the admin dashboard', message: 'The dashboard is for the admins of this site.' });
    return;
  }
  if (me.user.role !== 'admin') {
    root.append(h('section', { class: 'empty', 'data-testid': 'admin-forbidden' },
      icon(ICONS.lock, 32),
      h('p', null, 'Only admins see the dashboard'),
      h('p', { class: 'muted' }, 'Ask an admin of this site if you need access.')));
    return;
  }

  const ended = (err) => {
    if (err?.status !== 401) return false;
    sessionEnded();
    root.replaceChildren();
    loginRequired(root, { title: 'Your session has ended', message: 'Log in again to see the dashboard.' });
    return true;
  };
  const ctx = { signal, ended, me, users: new Map() };
  const updated = h('p', { class: 'muted admin-updated', 'data-testid': 'admin-updated' });
  root.append(
    h('div', { class: 'section-head' },
      h('h1', { class: 'page-title' }, 'Admin dashboard'),
      updated),
    h('nav', { class: 'admin-jump', 'aria-label': 'Dashboard sections' },
      h('a', { href: '#nodes-title' }, 'Nodes'),
      h('a', { href: '#edges-title' }, 'Edges'),
      h('a', { href: '#jobs-title' }, 'Jobs'),
      h('a', { href: '#edge-title' }, 'Edge cache'),
      h('a', { href: '#playback-title' }, 'Playback'),
      h('a', { href: '#users-title' }, 'Users'),
      h('a', { href: '#moderation-title' }, 'Moderation'),
      h('a', { href: '#logs-title' }, 'Logs')));
  const registry = edgesPanel(ctx, { panel });
  const nodes = nodesPanel(ctx, registry.show);
  const jobs = jobsPanel(ctx);
  const edges = edgePanel(ctx);
  const playback = playbackPanel(ctx);
  const users = usersPanel(ctx);
  const moderation = moderationPanel(ctx);
  const logs = logsPanel(ctx, { panel, guarded });
  root.append(nodes.el, registry.el, jobs.el, edges.el, playback.el, users.el, moderation.el, logs.el);

  edges.load();
  playback.load();
  users.load().then(() => moderation.load());
  // Live figures: nodes and jobs, every POLL_MS, until the page is left.
  // A slow answer delays the next poll rather than piling requests up.
  while (!signal.aborted) {
    await Promise.all([nodes.load(), jobs.load(), logs.poll()]);
    if (signal.aborted) return;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${POLL_MS / 1000} s`;
    await sleep(POLL_MS, signal);
  }
}

function panel(id, title, intro, ...children) {
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id, class: 'panel-title', tabindex: '-1' }, title),
    intro ? h('p', { class: 'muted panel-intro' }, intro) : null,
    ...children);
}

function when(iso) {
  if (!iso) return '';
  return h('time', { datetime: iso, title: formatDate(iso, true) }, timeAgo(iso));
}

// Runs fetch and shows its error in status (once; cleared on success).
async function guarded(status, what, { signal, ended }, fn) {
  try {
    await fn();
    if (status.dataset.failed) {
      status.replaceChildren();
      delete status.dataset.failed;
    }
  } catch (err) {
    if (isAbort(err) || signal.aborted || ended(err)) return;
    status.dataset.failed = '1';
    status.replaceChildren(errorBox(`Couldn't load ${what}`, err.message));
  }
}

// ------------------------------------------------------------------ nodes

function nodeCard(n, leader, self) {
  const isLeader = n.id === leader;
  const pct = diskPercent(n.disk);
  const healthy = n.healthy && n.state !== 'unreachable';
  return h('li', {
    class: `node-card${healthy ? '' : ' is-unhealthy'}`,
    'data-testid': 'node',
    'data-id': n.id,
    'data-leader': String(isLeader),
    'data-healthy': String(healthy),
  },
  h('p', { class: 'row-title' },
    h('span', { class: 'node-id' }, n.id),
    isLeader ? h('span', { class: 'pill pill-accent', 'data-testid': 'node-leader' }, 'Leader') : null,
    n.id === self ? h('span', { class: 'pill' }, 'this node') : null,
    healthy
      ? h('span', { class: 'pill pill-ok', 'data-testid': 'node-health' }, 'Healthy')
      : h('span', { class: 'pill pill-danger', 'data-testid': 'node-health' }, n.state === 'unreachable' ? 'Unreachable' : 'Unhealthy')),
  n.problem ? h('p', { class: 'error-text row-error' }, n.problem) : null,
  h('dl', { class: 'facts node-facts' },
    h('div', null, h('dt', null, 'Roles'), h('dd', null, (n.roles || []).join(', ') || '—')),
    h('div', null, h('dt', null, 'Raft state'), h('dd', null, n.state || '—')),
    h('div', null, h('dt', null, 'Voter'), h('dd', null, n.voter ? 'Yes' : 'No')),
    h('div', null, h('dt', null, 'Applied index'), h('dd', { 'data-testid': 'node-applied' }, String(n.applied_index ?? '—'))),
    h('div', { class: 'node-disk' },
      h('dt', null, 'Disk'),
      h('dd', null, n.disk
        ? [`${formatBytes(n.disk.used_bytes)} of ${formatBytes(n.disk.total_bytes)} (${pct}%)`,
          h('progress', { class: `progress progress-small${pct >= 90 ? ' is-full' : ''}`, max: 100, value: pct,
            'aria-label': `Disk of ${n.id}: ${pct}% used` })]
        : '—'))));
}

function nodesPanel(ctx, onView) {
  const list = h('ul', { class: 'node-grid', 'data-testid': 'node-list', 'aria-live': 'off' });
  const summary = h('p', { class: 'muted', 'data-testid': 'cluster-summary' });
  const status = h('div');
  const el = panel('nodes-title', 'Nodes', null, summary, status, list);
  return {
    el,
    load: () => guarded(status, 'the nodes', ctx, async () => {
      const c = await getJSON(`${ADMIN}/cluster`, { signal: ctx.signal });
      onView(c); // the edge registry panel shows the same answer
      const nodes = c.nodes || [];
      const healthy = nodes.filter((n) => n.healthy && n.state !== 'unreachable').length;
      summary.textContent = `${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'}, ${healthy} healthy · leader ${c.leader || 'none (no quorum)'}`;
      list.replaceChildren(...nodes.map((n) => nodeCard(n, c.leader, c.self)));
    }),
  };
}

// ------------------------------------------------------------------- jobs

const JOB_LABEL = { queued: 'Queued', running: 'Running', done: 'Done', dead: 'Failed' };
const JOB_FILTERS = [
  ['', 'All jobs'],
  ['running', 'Running'],
  ['queued', 'Queued'],
  ['dead', 'Failed'],
  ['done', 'Done'],
];

function jobsPanel(ctx) {
  const { signal } = ctx;
  const counts = h('ul', { class: 'counts', 'data-testid': 'job-counts' });
  const filter = h('select', { id: 'job-filter', class: 'select', 'data-testid': 'job-filter' },
    JOB_FILTERS.map(([v, label]) => h('option', { value: v }, label)));
  const list = h('ul', { class: 'rows', 'data-testid': 'job-list' });
  const status = h('div');
  const result = statusLine('job-status');
  let seen = 0;

  async function retry(j, button) {
    button.disabled = true;
    result.replaceChildren();
    try {
      await sendJSON('POST', `${ADMIN}/jobs/${encodeURIComponent(j.id)}/retry`, undefined, { signal });
      result.textContent = `The job of “${j.video_title || j.video_id}” is queued again.`;
      await load();
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      button.disabled = false;
      result.replaceChildren(h('span', { class: 'error-text' }, err.message));
    }
  }

  function row(j) {
    const title = j.video_title || j.video_id;
    const retryButton = j.state === 'dead'
      ? h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'job-retry', 'aria-label': `Retry the job of ${title}` }, 'Retry')
      : null;
    retryButton?.addEventListener('click', () => retry(j, retryButton));
    return h('li', { class: 'row', 'data-testid': 'job', 'data-id': j.id, 'data-state': j.state },
      h('div', { class: 'row-main' },
        h('p', { class: 'row-title' },
          h('a', { href: watchPath(j.video_id) }, title),
          h('span', { class: `pill job-${j.state}${j.state === 'dead' ? ' pill-danger' : ''}` }, JOB_LABEL[j.state] || j.state)),
        h('p', { class: 'row-meta' },
          `${j.kind} · attempt ${j.attempts} of ${j.max_attempts}`,
          j.worker ? ` · on ${j.worker}` : '',
          ' · ', j.state === 'done' || j.state === 'dead' ? 'ended ' : 'since ', when(j.updated_at || j.created_at)),
        j.last_error ? h('p', { class: 'error-text row-error', 'data-testid': 'job-error' },
          j.state === 'dead' ? 'Failed: ' : 'Last attempt failed: ', j.last_error) : null),
      retryButton);
  }

  async function load() {
    await guarded(status, 'the job queue', ctx, async () => {
      const q = new URLSearchParams({ limit: '50' });
      if (filter.value) q.set('state', filter.value);
      const answer = await getJSON(`${ADMIN}/jobs?${q}`, { signal });
      const c = answer.counts || {};
      counts.replaceChildren(...['running', 'queued', 'dead', 'done'].map((s) =>
        h('li', { class: `count count-${s}`, 'data-testid': `job-count-${s}` },
          h('span', { class: 'count-n' }, String(c[s] || 0)), ' ', JOB_LABEL[s].toLowerCase())));
      const jobs = sortJobs(answer.jobs || []);
      // Keep keyboard focus on a Retry button that survives the refresh.
      const focused = list.contains(document.activeElement) ? document.activeElement.closest('[data-id]')?.dataset.id : null;
      list.replaceChildren(...(jobs.length ? jobs.map(row) : [h('li', { class: 'row muted' }, 'No jobs here.')]));
      if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"] button`)?.focus();
      seen++;
    });
  }
  filter.addEventListener('change', () => load());

  const el = panel('jobs-title', 'Job queue', 'Transcoding jobs. A failed job ran out of attempts or hit a permanent error; retry it once the cause is fixed.',
    counts,
    h('div', { class: 'field field-inline' }, h('label', { for: 'job-filter' }, 'Show'), filter),
    status, list, result);
  return { el, load, loaded: () => seen };
}

// ------------------------------------------------------------- edge cache

// The edges keep a sample a minute for a day; the charts show it in
// periods of EDGE_PERIOD_MS.
export const EDGE_PERIOD_MS = 15 * 60 * 1000;
const EDGE_PERIODS = (24 * 60 * 60 * 1000) / EDGE_PERIOD_MS;

function edgeCharts(name, node, periods, { starts, labels }) {
  const { hitRatio, bytesPerSecond } = edgeSeries(periods, starts, EDGE_PERIOD_MS);
  const heading = 'Time (UTC, start of 15 minutes)';
  const attrs = { 'data-node': node };
  return h('div', { class: 'charts', 'data-testid': 'edge-charts', 'data-node': node },
    chart({ title: `Hit ratio, ${name}`, kind: 'line', days: labels, values: hitRatio, format: formatPercent,
      testid: 'edge-chart-hit-ratio', heading, attrs }),
    chart({ title: `Served from the cache per second, ${name}`, kind: 'line', days: labels, values: bytesPerSecond,
      format: formatRate, testid: 'edge-chart-bandwidth', heading, attrs }));
}

function edgePanel(ctx) {
  const charts = h('div', { 'data-testid': 'edge-cache' });
  const summary = h('p', { class: 'muted', 'data-testid': 'edge-summary' });
  const status = h('div');
  const refresh = h('button', { type: 'button', class: 'btn btn-small' }, 'Reload');
  async function load() {
    await guarded(status, 'the edge figures', ctx, async () => {
      const c = await getJSON(`${ADMIN}/cluster?history=1`, { signal: ctx.signal });
      const edges = (c.nodes || []).filter((n) => n.edge_cache);
      const range = lastPeriods(EDGE_PERIODS, EDGE_PERIOD_MS);
      if (!edges.length) {
        summary.textContent = 'No edge reports cache figures: no node runs the edge role, or none answered.';
        charts.replaceChildren();
        return;
      }
      const per = edges.map((n) => [n.id, edgePeriods(n.edge_cache, EDGE_PERIOD_MS)]);
      const all = mergePeriods(per.map(([, p]) => p));
      let hits = 0;
      let requests = 0;
      for (const v of all.values()) {
        hits += v.hits;
        requests += v.requests;
      }
      summary.textContent = `Last 24 hours, ${edges.length} ${edges.length === 1 ? 'edge' : 'edges'}: ${requests} ${requests === 1 ? 'request' : 'requests'}, `
        + `${requests ? formatPercent((hits / requests) * 100) : '—'} answered from the cache.`;
      charts.replaceChildren(
        ...(edges.length > 1 ? [h('h3', { class: 'chart-group' }, 'All edges'), edgeCharts('all edges', 'all', all, range)] : []),
        ...per.flatMap(([id, p]) => [h('h3', { class: 'chart-group' }, `Edge ${id}`), edgeCharts(`edge ${id}`, id, p, range)]));
    });
  }
  refresh.addEventListener('click', () => load());
  const el = panel('edge-title', 'Edge cache',
    'What the edges answered over the last 24 hours (UTC), in 15-minute periods: the share of media requests answered from the cache (memory, disk or a stale copy), and the bytes per second the cache served.',
    h('div', { class: 'actions' }, refresh), summary, status, charts);
  return { el, load };
}

// --------------------------------------------------------------- playback

export const CHART_DAYS = 30;

function playbackPanel(ctx) {
  const charts = h('div', { class: 'charts', 'data-testid': 'qoe-charts' });
  const totals = h('p', { class: 'muted', 'data-testid': 'qoe-totals' });
  const status = h('div');
  const refresh = h('button', { type: 'button', class: 'btn btn-small' }, 'Reload');
  async function load() {
    await guarded(status, 'the playback figures', ctx, async () => {
      const q = await getJSON(`${ADMIN}/qoe?limit=0`, { signal: ctx.signal });
      const days = lastDays(CHART_DAYS);
      const byDay = q.by_day || [];
      const t = q.totals || {};
      const plays = t.sessions || 0;
      totals.textContent = `All time: ${plays} ${plays === 1 ? 'play' : 'plays'}, average startup ${t.startup_count ? formatMs(t.startup_ms_avg) : '—'}, `
        + `rebuffering ${t.watched_ms || t.rebuffer_ms ? formatPercent((t.rebuffer_ratio || 0) * 100) : '—'} of the time.`;
      charts.replaceChildren(
        chart({ title: 'Plays per day', kind: 'bar', days, testid: 'qoe-chart-plays',
          values: series(byDay, days, (r) => r.sessions || 0, 0), format: (v) => String(Math.round(v)) }),
        chart({ title: 'Average startup time per day', kind: 'line', days, testid: 'qoe-chart-startup',
          values: series(byDay, days, (r) => (r.startup_count > 0 ? r.startup_ms_avg : null)), format: formatMs }),
        chart({ title: 'Rebuffer ratio per day', kind: 'line', days, testid: 'qoe-chart-rebuffer',
          values: series(byDay, days, (r) => (r.watched_ms + r.rebuffer_ms > 0 ? r.rebuffer_ratio * 100 : null)), format: formatPercent }));
    });
  }
  refresh.addEventListener('click', () => load());
  const el = panel('playback-title', 'Playback',
    `What players reported over the last ${CHART_DAYS} days (UTC): plays (player sessions), the average time to the first frame, and the share of play time spent stalled.`,
    h('div', { class: 'actions' }, refresh), totals, status, charts);
  return { el, load };
}

// ------------------------------------------------------------------ users

function userRow(u, ctx, onSaved) {
  const { signal } = ctx;
  const key = `user-${u.id}`;
  const self = u.id === ctx.me.user.id;
  const role = h('select', { id: `${key}-role`, class: 'select', 'data-testid': 'user-role', disabled: self },
    ['user', 'moderator', 'admin'].map((r) => h('option', { value: r, selected: r === u.role }, r[0].toUpperCase() + r.slice(1))));
  const disabled = h('input', { id: `${key}-disabled`, type: 'checkbox', 'data-testid': 'user-disabled', checked: !!u.disabled, disabled: self });
  const storage = h('input', { id: `${key}-storage`, type: 'number', min: 0, step: 'any', inputmode: 'decimal', placeholder: 'no limit',
    value: quotaToMB(u.storage_quota), 'data-testid': 'user-storage' });
  const daily = h('input', { id: `${key}-daily`, type: 'number', min: 0, step: 'any', inputmode: 'decimal', placeholder: 'no limit',
    value: quotaToMB(u.daily_upload_quota), 'data-testid': 'user-daily' });
  const save = h('button', { type: 'submit', class: 'btn btn-small btn-accent', 'data-testid': 'user-save' }, 'Save');
  const result = h('p', { class: 'status-line', role: 'status' });
  const form = h('form', { class: 'user-form', novalidate: true, 'aria-label': `Settings of ${u.name}` },
    h('div', { class: 'field' }, h('label', { for: `${key}-role` }, 'Role'), role),
    h('div', { class: 'field' }, h('label', { for: `${key}-storage` }, 'Storage quota (MB)'), storage),
    h('div', { class: 'field' }, h('label', { for: `${key}-daily` }, 'Daily uploads (MB)'), daily),
    h('div', { class: 'field field-check' }, disabled, h('label', { for: `${key}-disabled` }, 'Disabled')),
    save);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.replaceChildren();
    const body = {};
    if (role.value !== u.role) body.role = role.value;
    if (disabled.checked !== !!u.disabled) body.disabled = disabled.checked;
    for (const [input, field] of [[storage, 'storage_quota'], [daily, 'daily_upload_quota']]) {
      const v = mbToQuota(input.value);
      input.removeAttribute('aria-invalid');
      if (Number.isNaN(v)) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        result.replaceChildren(h('span', { class: 'error-text' }, 'A quota is a number of megabytes, or empty for no limit.'));
        return;
      }
      if (v !== (u[field] || 0)) body[field] = v;
    }
    if (Object.keys(body).length === 0) {
      result.textContent = 'Nothing changed.';
      return;
    }
    save.disabled = true;
    try {
      const nu = await sendJSON('PATCH', `${ADMIN}/users/${encodeURIComponent(u.id)}`, body, { signal });
      Object.assign(u, nu);
      result.textContent = 'Saved.';
      onSaved(u);
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      result.replaceChildren(h('span', { class: 'error-text' }, err.message));
    } finally {
      save.disabled = false;
    }
  });
  const used = u.storage_quota > 0 ? `${formatBytes(u.storage_used || 0)} of ${formatBytes(u.storage_quota)} used` : `${formatBytes(u.storage_used || 0)} used`;
  const meta = h('p', { class: 'row-meta' }, `@${u.name} · ${used}`, u.created_at ? [' · joined ', when(u.created_at)] : '');
  return h('li', { class: 'row user-row', 'data-testid': 'user', 'data-id': u.id },
    h('div', { class: 'row-main' },
      h('p', { class: 'row-title' }, u.display_name || u.name,
        h('span', { class: 'pill' }, u.role),
        u.disabled ? h('span', { class: 'pill pill-danger' }, 'disabled') : null,
        self ? h('span', { class: 'pill' }, 'you') : null),
      meta),
    form, result);
}

function usersPanel(ctx) {
  const list = h('ul', { class: 'rows', 'data-testid': 'user-list' });
  const status = h('div');
  const refresh = h('button', { type: 'button', class: 'btn btn-small' }, 'Reload users');
  async function load() {
    await guarded(status, 'the users', ctx, async () => {
      const { users = [] } = await getJSON(`${ADMIN}/users`, { signal: ctx.signal });
      users.sort((a, b) => a.name.localeCompare(b.name));
      ctx.users.clear();
      for (const u of users) ctx.users.set(u.id, u);
      const rerender = (u) => {
        const old = list.querySelector(`[data-id="${CSS.escape(u.id)}"]`);
        const fresh = userRow(u, ctx, rerender);
        old?.replaceWith(fresh);
        fresh.querySelector('.status-line').textContent = 'Saved.';
      };
      list.replaceChildren(...(users.length ? users.map((u) => userRow(u, ctx, rerender)) : [h('li', { class: 'row muted' }, 'No accounts yet.')]));
    });
  }
  refresh.addEventListener('click', () => load());
  const el = panel('users-title', 'Users', 'Roles, quotas (empty for no limit) and disabling an account. A disabled account can no longer log in or use its tokens.',
    h('div', { class: 'actions' }, refresh), status, list);
  return { el, load };
}

// ------------------------------------------------------------- moderation

function moderationPanel(ctx) {
  const { signal } = ctx;
  const list = h('ul', { class: 'rows', 'data-testid': 'moderation-list' });
  const status = h('div');
  const result = statusLine('moderation-status');
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  let cursor = '';

  function owner(v) {
    const u = v.owner && ctx.users.get(v.owner);
    return u ? `@${u.name}` : (v.owner ? 'another account' : 'no owner');
  }

  function row(v) {
    const title = v.title?.trim() || 'Untitled video';
    const takeDown = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'video-takedown', 'aria-label': `Take down ${title} (make it private)` }, 'Take down');
    const del = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'video-delete', 'aria-label': `Delete ${title}` }, icon(ICONS.trash, 16), 'Delete');
    const li = h('li', { class: 'row', 'data-testid': 'moderation-video', 'data-id': v.id },
      h('div', { class: 'row-main' },
        h('p', { class: 'row-title' }, h('a', { href: watchPath(v.id) }, title), h('span', { class: 'pill' }, v.visibility || 'public')),
        h('p', { class: 'row-meta' }, `by ${owner(v)}`, v.created_at ? [' · uploaded ', when(v.created_at)] : '')),
      h('div', { class: 'actions' }, takeDown, del));
    async function act(button, fn, done) {
      takeDown.disabled = del.disabled = true;
      result.replaceChildren();
      try {
        await fn();
        result.textContent = done;
        li.remove();
        if (!list.children.length) list.append(h('li', { class: 'row muted' }, 'No public videos.'));
      } catch (err) {
        if (isAbort(err) || ctx.ended(err)) return;
        takeDown.disabled = del.disabled = false;
        result.replaceChildren(h('span', { class: 'error-text' }, err.message));
        button.focus();
      }
    }
    takeDown.addEventListener('click', () => act(takeDown,
      () => sendJSON('PATCH', videoURL(v.id), { visibility: 'private' }, { signal }),
      `“${title}” is private now: only its owner and admins can see it.`));
    del.addEventListener('click', () => {
      if (!window.confirm(`Delete “${title}” for good? Its files are removed from every node.`)) return;
      act(del, () => sendJSON('DELETE', videoURL(v.id), undefined, { signal }), `Deleted “${title}”.`);
    });
    return li;
  }

  async function page(first) {
    await guarded(status, 'the videos', ctx, async () => {
      const q = new URLSearchParams({ limit: '20' });
      if (!first && cursor) q.set('cursor', cursor);
      const { videos = [], next_cursor: next = '' } = await getJSON(`/api/v1/videos?${q}`, { signal });
      const rows = videos.map(row);
      if (first) list.replaceChildren(...(rows.length ? rows : [h('li', { class: 'row muted' }, 'No public videos.')]));
      else list.append(...rows);
      cursor = next;
      more.hidden = !next;
    });
  }
  more.addEventListener('click', () => page(false));
  const el = panel('moderation-title', 'Moderation', 'The latest public videos. Taking one down makes it private (its owner keeps it); deleting removes it everywhere.',
    status, list, h('div', { class: 'load-more' }, more), result);
  return { el, load: () => page(true) };
}

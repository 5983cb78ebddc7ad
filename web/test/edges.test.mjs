// Unit tests of the edge registry panel's pure helpers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { edgeHealth, edgeRows, edgeSummary, formatCoverage, formatLoad, formatRequestRate, linkable } from '../src/lib/edges.js';

test('formatCoverage joins the CIDR blocks; none is "None"', () => {
  assert.equal(formatCoverage(['10.0.0.0/8', '127.0.0.3/32']), '10.0.0.0/8, 127.0.0.3/32');
  assert.equal(formatCoverage(['2001:db8::/32']), '2001:db8::/32');
  assert.equal(formatCoverage([]), 'None');
  assert.equal(formatCoverage(undefined), 'None');
  assert.equal(formatCoverage(['', null, '192.0.2.0/24']), '192.0.2.0/24');
});

test('edgeHealth: from the node status; no status is unknown', () => {
  assert.equal(edgeHealth({ healthy: true, state: 'Follower' }), 'healthy');
  assert.equal(edgeHealth({ healthy: false, state: 'Follower', problem: 'not ready' }), 'unhealthy');
  assert.equal(edgeHealth({ healthy: true, state: 'unreachable' }), 'unhealthy');
  assert.equal(edgeHealth(undefined), 'unknown');
});

test('formatRequestRate and formatLoad', () => {
  assert.equal(formatRequestRate(0), '0 req/s');
  assert.equal(formatRequestRate(0.44), '0.4 req/s');
  assert.equal(formatRequestRate(12.4), '12 req/s');
  assert.equal(formatRequestRate(1250), '1,250 req/s');
  assert.equal(formatRequestRate(NaN), '—');
  assert.equal(formatRequestRate(-1), '—');
  assert.deepEqual(formatLoad({ requests_per_sec: 2.5, bytes_per_sec: 3_100_000 }), { requests: '2.5 req/s', bytes: '3.1 MB/s' });
  assert.deepEqual(formatLoad({}), { requests: '0 req/s', bytes: '0 B/s' });
  assert.deepEqual(formatLoad(undefined), { requests: '—', bytes: '—' });
});

test('edgeRows joins the registry with the node statuses, sorted by ID', () => {
  const view = {
    nodes: [
      { id: 'o1', healthy: true, state: 'Leader' },
      { id: 'edge-b', healthy: false, state: 'unreachable', problem: 'dial tcp: refused' },
      { id: 'edge-a', healthy: true, state: 'Follower', edge_load: { requests_per_sec: 4, bytes_per_sec: 20_000 } },
    ],
    edges: [
      { id: 'edge-c', public_url: 'https://c.example' },
      { id: 'edge-b', public_url: 'https://b.example', region: 'eu', coverage: ['10.0.0.0/8'] },
      { id: 'edge-a', public_url: 'https://a.example/cdn', region: 'us', coverage: ['192.0.2.0/24', '198.51.100.0/24'] },
    ],
  };
  const rows = edgeRows(view);
  assert.deepEqual(rows.map((r) => r.id), ['edge-a', 'edge-b', 'edge-c']);
  assert.deepEqual(rows[0], {
    id: 'edge-a', url: 'https://a.example/cdn', region: 'us', coverage: '192.0.2.0/24, 198.51.100.0/24',
    health: 'healthy', healthLabel: 'Healthy', problem: '', load: { requests: '4 req/s', bytes: '20 kB/s' },
  });
  assert.equal(rows[1].health, 'unhealthy');
  assert.equal(rows[1].problem, 'dial tcp: refused');
  assert.deepEqual(rows[1].load, { requests: '—', bytes: '—' });
  assert.equal(rows[2].health, 'unknown');
  assert.equal(rows[2].healthLabel, 'Unknown');
  assert.equal(rows[2].region, '—');
  assert.equal(rows[2].coverage, 'None');
  assert.equal(view.edges[0].id, 'edge-c', 'the registry is not sorted in place');
  assert.equal(edgeSummary(rows), '3 edges, 1 healthy');
  assert.equal(edgeSummary(rows.slice(0, 1)), '1 edge, 1 healthy');
});

test('edgeRows of an empty or missing registry', () => {
  assert.deepEqual(edgeRows({ nodes: [{ id: 'o1', healthy: true }], edges: [] }), []);
  assert.deepEqual(edgeRows({}), []);
  assert.deepEqual(edgeRows(undefined), []);
});

test('linkable: http and https URLs only', () => {
  assert.equal(linkable('http://127.0.0.1:8080'), true);
  assert.equal(linkable('https://edge.example/cdn'), true);
  assert.equal(linkable('javascript:alert(1)'), false);
  assert.equal(linkable('not a url'), false);
  assert.equal(linkable(''), false);
});

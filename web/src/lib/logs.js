// Pure helpers of the admin log view (components/logs-panel.js).

/** The level filter: the lowest level shown. Nodes keep info and above. */
export const logLevels = [
  ['info', 'Info and above'],
  ['warn', 'Warnings and errors'],
  ['error', 'Errors'],
];

const MAX_FIELDS_CHARS = 400;

/**
 * An entry's fields as one line, key=value, strings bare, other values as
 * JSON; cut at MAX_FIELDS_CHARS. '' when there are none.
 */
export function entryFields(fields) {
  if (!fields || typeof fields !== 'object') return '';
  const parts = Object.keys(fields).sort().map((k) => {
    const v = fields[k];
    return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  });
  const line = parts.join(' ');
  return line.length > MAX_FIELDS_CHARS ? `${line.slice(0, MAX_FIELDS_CHARS - 1)}…` : line;
}

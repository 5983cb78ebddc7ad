// The captions of one video, for its owner: the list, an upload form
// (a .vtt or .srt file, a language tag, an optional label) and a delete
// button per caption. The server detects the format, converts SRT, checks
// the cues and answers a sentence when it refuses; that sentence is shown.
import { h } from '../lib/dom.js';
import { captionURL, isAbort, sendFile, sendJSON } from '../lib/api.js';

// A BCP 47 tag's shape: the server has the last word, this only spares a
// round trip for an obvious typo.
const LANG_RE = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;
const MAX_BYTES = 1 << 20;

/**
 * captionsEditor returns a <details> for video v. ctx: { signal, ended(err) }
 * as the my-videos page has them; onChange(captions) after each change.
 */
export function captionsEditor(v, ctx, onChange = () => {}) {
  let captions = Array.isArray(v.captions) ? v.captions.slice() : [];
  const title = v.title?.trim() || 'Untitled video';
  const key = `cap-${v.id}`;
  const summary = h('summary', null);
  const list = h('ul', { class: 'caption-list', 'data-testid': 'caption-list', 'aria-label': `Captions of ${title}` });
  const status = h('p', { class: 'caption-status', role: 'status', 'aria-live': 'polite' });
  const file = h('input', { id: `${key}-file`, type: 'file', accept: '.vtt,.srt,text/vtt,application/x-subrip', required: true, 'data-testid': 'caption-file' });
  const lang = h('input', {
    id: `${key}-lang`, type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 35,
    value: (typeof navigator !== 'undefined' && navigator.language) || 'en', 'aria-describedby': `${key}-lang-hint`,
    'data-testid': 'caption-lang',
  });
  const label = h('input', { id: `${key}-label`, type: 'text', maxlength: 100, autocomplete: 'off', 'data-testid': 'caption-label' });
  const submit = h('button', { type: 'submit', class: 'btn btn-small btn-accent', 'data-testid': 'caption-upload' }, 'Upload captions');
  const form = h('form', { class: 'caption-form', 'data-testid': 'caption-form' },
    h('div', { class: 'field' }, h('label', { for: file.id }, 'Caption file (.vtt or .srt)'), file),
    h('div', { class: 'field' },
      h('label', { for: lang.id }, 'Language'),
      lang,
      h('span', { id: `${key}-lang-hint`, class: 'muted caption-hint' }, 'A language tag such as en, fr or pt-BR')),
    h('div', { class: 'field' }, h('label', { for: label.id }, 'Label (optional)'), label),
    submit);
  const box = h('details', { class: 'captions', 'data-testid': 'captions' }, summary, list, form, status);

  const say = (text, isError = false) => {
    status.className = isError ? 'caption-status error-text' : 'caption-status';
    status.textContent = text;
  };
  const draw = () => {
    summary.textContent = captions.length ? `Captions (${captions.length})` : 'Captions';
    list.replaceChildren(...captions.map((c) => {
      const del = h('button', {
        type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'caption-delete', 'aria-label': `Delete ${c.label} captions`,
      }, 'Delete');
      del.addEventListener('click', () => remove(c, del));
      return h('li', { class: 'caption-item', 'data-lang': c.lang },
        h('span', null, c.label, ' ', h('span', { class: 'muted' }, `(${c.lang})`)), del);
    }));
    list.hidden = captions.length === 0;
  };

  async function remove(c, button) {
    button.disabled = true;
    say('');
    try {
      await sendJSON('DELETE', captionURL(v.id, c.lang), undefined, { signal: ctx.signal });
      captions = captions.filter((x) => x.lang !== c.lang);
      draw();
      onChange(captions);
      say(`Deleted the ${c.label} captions.`);
      submit.focus();
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      button.disabled = false;
      say(`Couldn't delete the ${c.label} captions: ${err.message}`, true);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files?.[0];
    const tag = lang.value.trim();
    lang.removeAttribute('aria-invalid');
    if (!f) {
      say('Choose a .vtt or .srt file.', true);
      file.focus();
      return;
    }
    if (f.size > MAX_BYTES) {
      say('A caption file is at most 1 MiB.', true);
      file.focus();
      return;
    }
    if (!LANG_RE.test(tag)) {
      lang.setAttribute('aria-invalid', 'true');
      say('The language must be a tag such as en, fr or pt-BR.', true);
      lang.focus();
      return;
    }
    submit.disabled = true;
    say('Uploading…');
    try {
      const c = await sendFile('PUT', captionURL(v.id, tag, label.value.trim()), f, { signal: ctx.signal });
      captions = captions.filter((x) => x.lang !== c.lang).concat([c]).sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0));
      draw();
      onChange(captions);
      form.reset();
      lang.value = tag;
      say(`Added the ${c.label} captions.`);
    } catch (err) {
      if (isAbort(err) || ctx.ended(err)) return;
      say(`Couldn't add the captions: ${err.message}`, true);
    } finally {
      submit.disabled = false;
    }
  });

  draw();
  return box;
}

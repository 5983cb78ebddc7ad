// Inline form to edit a video's title, description and tags (My videos).
// Checks the server's limits before sending (lib/edit-video.js), sends
// only what changed with PATCH /api/v1/videos/{id}, and shows the
// server's own message next to its field when it still refuses.
import { h, icon } from '../lib/dom.js';
import { isAbort, sendJSON, videoURL } from '../lib/api.js';
import { LIMITS, editPatch, fieldOfMessage, tagsText, validateEdit } from '../lib/edit-video.js';

/** A pencil, for the Edit buttons (decorative). */
export const EDIT_ICON = 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4';

/** An Edit button for a row: aria-expanded tells whether its form is open. */
export function editButton(title) {
  return h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'video-edit', 'aria-label': `Edit ${title}`, 'aria-expanded': 'false' },
    icon(EDIT_ICON, 16), h('span', null, 'Edit'));
}

/**
 * The form for video v. opts: signal; onSaved(video) with the server's
 * answer; onCancel(); ended(err) true when the error was handled (the
 * session ended).
 */
export function editForm(v, { signal, onSaved, onCancel, ended = () => false }) {
  const id = (name) => `edit-${name}-${v.id}`;
  const fields = {
    title: h('input', { id: id('title'), type: 'text', maxlength: LIMITS.title, required: true, autocomplete: 'off', value: v.title || '', 'data-testid': 'edit-title' }),
    description: h('textarea', { id: id('description'), rows: 4, maxlength: LIMITS.description, 'data-testid': 'edit-description' }),
    tags: h('input', { id: id('tags'), type: 'text', autocomplete: 'off', value: tagsText(v.tags), placeholder: 'music, live, tutorial', 'data-testid': 'edit-tags' }),
  };
  fields.description.value = v.description || '';
  const errors = {};
  const row = (name, label, optional, hint) => {
    errors[name] = h('p', { id: id(`${name}-error`), class: 'field-error', 'data-testid': `edit-${name}-error` });
    const described = [hint ? id(`${name}-hint`) : '', id(`${name}-error`)].filter(Boolean).join(' ');
    fields[name].setAttribute('aria-describedby', described);
    return h('div', { class: 'field' },
      h('label', { for: id(name) }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
      fields[name],
      hint ? h('p', { id: id(`${name}-hint`), class: 'hint' }, hint) : null,
      errors[name]);
  };
  const formError = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'edit-error' });
  const save = h('button', { type: 'submit', class: 'btn btn-accent btn-small', 'data-testid': 'edit-save' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'edit-cancel' }, 'Cancel');
  const form = h('form', { class: 'edit-video', novalidate: true, 'data-testid': 'video-edit-form', 'aria-label': `Edit ${v.title || 'video'}` },
    row('title', 'Title', false, ''),
    row('description', 'Description', true, `Up to ${LIMITS.description.toLocaleString('en')} characters.`),
    row('tags', 'Tags', true, `Separate tags with commas; up to ${LIMITS.tags}.`),
    formError,
    h('div', { class: 'actions' }, save, cancel));

  function showErrors(found) {
    let first = null;
    for (const [name, el] of Object.entries(errors)) {
      el.textContent = found[name] || '';
      if (found[name]) fields[name].setAttribute('aria-invalid', 'true');
      else fields[name].removeAttribute('aria-invalid');
      if (found[name] && !first) first = fields[name];
    }
    first?.focus();
    return !!first;
  }

  // A field's error goes as soon as the user changes it.
  for (const [name, el] of Object.entries(fields)) {
    el.addEventListener('input', () => {
      errors[name].textContent = '';
      el.removeAttribute('aria-invalid');
    });
  }
  cancel.addEventListener('click', () => onCancel());
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !save.disabled) {
      e.preventDefault();
      onCancel();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.replaceChildren();
    const values = { title: fields.title.value, description: fields.description.value, tags: fields.tags.value };
    if (showErrors(validateEdit(values))) return;
    const patch = editPatch(v, values);
    if (!patch) {
      onCancel();
      return;
    }
    save.disabled = true;
    save.textContent = 'Saving…';
    try {
      const out = await sendJSON('PATCH', videoURL(v.id), patch, { signal });
      onSaved(out || { ...v, ...patch });
    } catch (err) {
      if (isAbort(err) || ended(err)) return;
      save.disabled = false;
      save.textContent = 'Save';
      const field = err.status === 400 ? fieldOfMessage(err.message) : '';
      if (field) showErrors({ [field]: err.message });
      else formError.textContent = `Couldn't save: ${err.message}`;
    }
  });
  return { form, focus: () => fields.title.focus() };
}

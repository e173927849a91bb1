// The devtools JSON API, as the UI calls it.

import { $ } from './dom.js';

export const API = '/devtools/api';

/** An API error with the HTTP status and the route's stable error code. */
export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export async function api(path, options = {}) {
  const response = await fetch(`${API}${path}`, {
    ...options,
    headers: { Accept: 'application/json', ...(options.body ? { 'Content-Type': 'application/json' } : {}) },
    credentials: 'same-origin',
  });
  if (response.status === 401)
    showBanner('Not authorised: open /devtools from this machine or log in with DEVTOOLS_TOKEN.');
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(body?.message || body?.error || `HTTP ${response.status}`, response.status, body?.error);
  }
  return body;
}

export function showBanner(text) {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = false;
}

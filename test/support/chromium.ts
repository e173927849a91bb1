import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './requirements.js';

/**
 * Debian's Chromium, headless, as the devtools browser tests drive it (no sandbox: CI runs as root).
 *
 * @example
 * browser = await launchChromium();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

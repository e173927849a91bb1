import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
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

/**
 * A desktop-sized page opened on `url`, collecting the page's script errors and console errors so
 * a browser test can end with `expect(errors).toEqual([])`. Close `context` when done.
 *
 * @example
 * const { context, page, errors, status } = await openPage(browser, `${base}/devtools`);
 * expect(status).toBe(200);
 */
export async function openPage(
  browser: Browser,
  url: string,
  { viewport = { width: 1440, height: 900 } }: { viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[]; status: number | undefined }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const response = await page.goto(url);
  return { context, page, errors, status: response?.status() };
}

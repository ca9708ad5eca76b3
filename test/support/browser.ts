import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { type App, createApp } from '../../server/http/app.js';
import type { TestEnv } from './env.js';
import { createTestEnv } from './env.js';
import { seedTenants, type Tenants } from './tenants.js';

export const WEB_DIST_DIR = new URL('../../web/dist', import.meta.url).pathname;
export const SCREENSHOT_DIR = new URL('../../test-artifacts/screenshots', import.meta.url).pathname;
export const DOCS_SCREENSHOT_DIR = new URL('../../docs/screenshots', import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A test env whose server serves the built web app (`npx vite build` first; `npm test` does it). */
export async function createWebTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  if (!existsSync(`${WEB_DIST_DIR}/index.html`)) throw new Error('web/dist is missing: run `npx vite build` first');
  return createTestEnv({ ...overrides, WEB_DIST_DIR });
}

/**
 * The real HTTP + WebSocket server on a fixed port, which can be stopped and started again on the
 * SAME port (a server restart, as a ward screen sees it).
 */
export class RestartableServer {
  private app: App | null = null;
  port = 0;
  constructor(private readonly env: TestEnv) {
    afterAll(() => this.stop());
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const app = createApp(this.env.deps, { fanoutTickMs: 200 });
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (app.server.address() as AddressInfo).port;
    this.app = app;
  }
  async stop(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (app) await app.close();
  }
}

export interface WebApp {
  env: TestEnv;
  t: Tenants;
  server: RestartableServer;
  browser: Browser;
}

/** A browser test file's whole stack: its own seeded database, the server serving the built app, Chromium. */
export async function startWebApp(overrides: Record<string, string> = {}): Promise<WebApp> {
  const env = await createWebTestEnv(overrides);
  const t = await seedTenants(env);
  const server = new RestartableServer(env);
  await server.start();
  return { env, t, server, browser: await launchBrowser() };
}

/** Debian's Chromium, headless (never a downloaded browser). One per test file. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  afterAll(() => browser.close());
  return browser;
}

/** A browser context (its own sessionStorage: another "screen"), optionally already signed in. */
export async function openScreen(browser: Browser, baseUrl: string, opts: { token?: string; path?: string; width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 }, timezoneId: 'UTC', locale: 'en-GB' });
  if (opts.token) {
    // Signed in as the app would be after auth.login: the session token in sessionStorage.
    await context.addInitScript((token) => {
      if (!sessionStorage.getItem('clarion.token')) sessionStorage.setItem('clarion.token', token);
    }, opts.token);
  }
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('[browser error]', err.message));
  await page.goto(opts.path ?? '/');
  return { context, page };
}

/** Saves a screenshot to test-artifacts/screenshots (and to docs/screenshots for the README ones). */
export async function screenshot(page: Page, name: string, opts: { docs?: boolean; fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: opts.fullPage ?? false });
  if (opts.docs) {
    mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${DOCS_SCREENSHOT_DIR}/${name}.png`, fullPage: false });
  }
}

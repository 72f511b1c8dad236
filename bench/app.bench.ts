import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/app/chromium.ts';
import { ensureBuild, startServer } from '../test/app/server.ts';
import { median } from './stats.ts';

/**
 * Time to image in the real page (Debian's Chromium against the production build, served locally, cold disk
 * cache): for a key nobody has rendered yet (Random), and for next/prev once the page's prefetch has finished.
 * Also the server alone: a cold render and a disk-cache hit over HTTP.
 */
const ROUNDS = 10;

/** Clicks a button inside the page and resolves with the ms until the new image has loaded and decoded. */
function clickToImage(page: Page, button: string): Promise<number> {
  return page.evaluate(async (label) => {
    const frame = document.querySelector('.frame') as HTMLElement;
    const before = (frame.querySelector('img') as HTMLImageElement | null)?.src;
    const target = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === label);
    if (!target) throw new Error(`no button ${label}`);
    const start = performance.now();
    target.click();
    // A loop rather than a named callback: tsx wraps named functions in a helper the page does not have.
    for (;;) {
      const img = frame.querySelector('img') as HTMLImageElement | null;
      if (img && img.src !== before && img.complete && img.naturalWidth > 0) break;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    return performance.now() - start;
  }, button);
}

/** Waits until the page has had no API request in flight for 300 ms (its prefetch has finished). */
async function quiet(page: Page, inFlight: () => number): Promise<void> {
  let calmSince = Date.now();
  for (;;) {
    if (inFlight() > 0) calmSince = Date.now();
    else if (Date.now() - calmSince > 300) return;
    await page.waitForTimeout(50);
  }
}

function summary(ms: number[]): string {
  return `${median(ms).toFixed(1)} | ${Math.min(...ms).toFixed(1)} | ${Math.max(...ms).toFixed(1)}`;
}

async function postRender(url: string, key: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${url}/api/render`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`render answered ${response.status}`);
  return performance.now() - start;
}

export default async function (): Promise<{ title: string; markdown: string }> {
  await ensureBuild();
  const cacheDir = mkdtempSync(join(tmpdir(), 'lob-bench-cache-'));
  const server = await startServer({ LOB_CACHE_DIR: cacheDir });
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    let pending = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/')) pending++;
    });
    const done = (r: { url(): string }) => {
      if (r.url().includes('/api/')) pending--;
    };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    await page.goto(server.url);
    await page.getByTestId('image').waitFor({ timeout: 120_000 });
    await quiet(page, () => pending);

    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      cold.push(await clickToImage(page, 'Random'));
      await quiet(page, () => pending);
      warm.push(await clickToImage(page, i % 2 === 0 ? 'Next →' : '← Prev'));
      await quiet(page, () => pending);
    }

    const serverCold: number[] = [];
    const serverCached: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { key } = (await (await fetch(`${server.url}/api/random`)).json()) as { key: string };
      serverCold.push(await postRender(server.url, key));
      serverCached.push(await postRender(server.url, key));
    }
    const model = (await (await fetch(`${server.url}/api/model`)).json()) as { name: string; version: string };

    const markdown = [
      `Model ${model.name} v${model.version}; production build on 127.0.0.1, Debian Chromium headless, ${ROUNDS} rounds,`,
      'fresh disk cache. Times in ms.',
      '',
      '| time to image | median | min | max |',
      '| --- | --- | --- | --- |',
      `| page: cold key (Random: /api/random + render) | ${summary(cold)} |`,
      `| page: next/prev after prefetch (target ≤ 50) | ${summary(warm)} |`,
      `| server: POST /api/render, cold key | ${summary(serverCold)} |`,
      `| server: POST /api/render, disk-cache hit | ${summary(serverCached)} |`,
    ].join('\n');
    return { title: 'Web app: time to image', markdown };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString, encodeGen5 } from '../../gen5/index.ts';
import { currentEnvironment } from '../../lib/environment.ts';
import { buildGen5Input } from '../../lib/provenance.ts';
import { defaultModelDir, loadModel, renderKey } from '../../pipeline/index.ts';
import { type Browser, launchChromium } from './chromium.ts';
import { ensureBuild, type RunningServer, startServer } from './server.ts';

// Real Chromium (Debian's) against the production build. Screenshots go to test-results/ for people to look at.
const SHOTS = resolve(import.meta.dirname, '../../test-results/browser');

let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function keyText(): Promise<string> {
  return page.getByTestId('key').inputValue();
}

/** The SHA-256 of the PNG bytes on show (read back from the blob: URL the page displays). */
async function shownImageHash(): Promise<string> {
  const bytes: number[] = await page.getByTestId('image').evaluate(async (img: HTMLImageElement) => {
    const response = await fetch(img.src);
    return Array.from(new Uint8Array(await response.arrayBuffer()));
  });
  return createHash('sha256').update(Buffer.from(bytes)).digest('hex');
}

/** Waits until an image is on show and nothing is in progress, then returns its key and image hash. */
async function settled(): Promise<{ key: string; image: string }> {
  // <main data-pending> flips synchronously when an action starts and ends (progress shows only after a delay).
  await expect.poll(() => page.locator('main').getAttribute('data-pending'), { timeout: 90_000 }).toBe('false');
  expect(await page.getByTestId('progress').count()).toBe(0);
  await expect
    .poll(() => page.getByTestId('image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
      timeout: 10_000,
    })
    .toBeGreaterThan(0);
  return { key: await keyText(), image: await shownImageHash() };
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureBuild();
  browser = await launchChromium();
  context = browser.context;
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

/** A server of the production build with its own fresh PNG cache, stopped (and its cache removed) afterwards. */
function serve(env: Record<string, string> = {}): void {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'lob-browser-cache-'));
    server = await startServer({ ...env, LOB_CACHE_DIR: cacheDir });
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await page?.close();
    await server?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });
}

/** Clicks a download button, checks the suggested name (`lob-` + 10 hex digits + `.ext`), saves the file in SHOTS. */
async function downloadVia(button: string, ext: string): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^lob-[0-9a-f]{10}\\.${ext}$`));
  const file = join(SHOTS, download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

/** Imports `file` and waits for the page to show `shown` again, verified bit-identical. */
async function importBitIdentical(file: string, shown: { key: string; image: string }): Promise<void> {
  await page.locator('#import-file').setInputFiles(file);
  await expect.poll(keyText, { timeout: 60_000 }).toBe(shown.key);
  expect(await settled()).toEqual(shown);
  await expect.poll(() => page.getByTestId('verification').textContent()).toContain('Bit-identical');
}

describe('the library in a real browser (default model)', () => {
  serve();

  it('opens on a random key and shows its image and the model name', async () => {
    await page.goto(server.url);
    const first = await settled();
    expect(first.key.length).toBeGreaterThan(10);
    await expect.poll(() => page.getByTestId('model-name').textContent()).toContain('v');
    const natural = await page.getByTestId('image').evaluate((img: HTMLImageElement) => img.naturalWidth);
    expect(natural).toBe(64);
    const rendering = await page.getByTestId('image').evaluate((img) => getComputedStyle(img).imageRendering);
    expect(rendering).toBe('pixelated');
    await shot('01-random');

    await page.getByRole('button', { name: 'Random' }).click();
    const second = await settled();
    expect(second.key).not.toBe(first.key);
  });

  it('searches for "cat" and shows the image of the key it found', async () => {
    const before = await keyText();
    await page.getByLabel('Look for').fill('cat');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(keyText, { timeout: 60_000 }).not.toBe(before);
    const found = await settled();
    expect(found.key.length).toBeGreaterThan(10);
    await shot('02-search-cat');
  });

  it('searches with "avoid:" text and gets a key that carries the negative prompt', async () => {
    await page.getByLabel('Look for').fill('cat');
    await page.getByLabel('avoid:').fill('dog');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(keyText, { timeout: 60_000 }).toMatch(/^[a-z0-9-]+-neg-[0-9]+\./);
    await settled();
    expect(await page.getByRole('button', { name: /Search again for “cat” avoiding “dog”/ }).count()).toBe(1);
    await page.getByLabel('avoid:').fill('');
  });

  it('turns to the next and previous keys, by button and by keyboard, and puts the key in the address', async () => {
    const start = await settled();
    await page.getByRole('button', { name: 'Next →' }).click();
    const next = await settled();
    expect(next.key).not.toBe(start.key);
    expect(next.image).not.toBe(start.image);
    await shot('03-next');

    await page.getByRole('button', { name: '← Prev' }).click();
    const back = await settled();
    expect(back).toEqual(start);

    await page.locator('body').press('ArrowRight');
    expect(await settled()).toEqual(next);
    await page.locator('body').press('ArrowLeft');
    expect(await settled()).toEqual(start);

    const address = new URL(page.url());
    expect(address.searchParams.get('k') ?? new URLSearchParams(address.hash.slice(1)).get('k')).toBe(start.key);
  });

  it('reopens the same image from a shared link', async () => {
    const here = await settled();
    const other = await context.newPage();
    try {
      await other.goto(page.url());
      await expect.poll(() => other.getByTestId('key').inputValue(), { timeout: 60_000 }).toBe(here.key);
    } finally {
      await other.close();
    }
  });

  it('copies the key to the clipboard', async () => {
    const { key } = await settled();
    await page.getByRole('button', { name: 'Copy key' }).click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  });

  it('exports a .gen5, imports it back, and reports the same image bit-identical', async () => {
    const shown = await settled();
    const file = await downloadVia('Download .gen5', 'gen5');

    await page.getByRole('button', { name: 'Random' }).click();
    const elsewhere = await settled();
    expect(elsewhere.key).not.toBe(shown.key);

    await importBitIdentical(file, shown);
    await shot('04-imported-gen5');
  });

  it('downloads the PNG (its key inside), imports it back, and reports it bit-identical', async () => {
    await page.getByRole('button', { name: 'Random' }).click();
    const shown = await settled();
    const file = await downloadVia('Download PNG', 'png');

    await page.getByRole('button', { name: 'Next →' }).click();
    expect((await settled()).key).not.toBe(shown.key);

    await importBitIdentical(file, shown);
  });

  it('shows "Not bit-identical" with the drift warnings for a file that holds another image', async () => {
    // A .gen5 of the key on show that stores another key's image and claims another Node version, made here with
    // the same model the server uses.
    const { key } = await settled();
    const other = ((await (await fetch(`${server.url}/api/random`)).json()) as { key: string }).key;
    const model = await loadModel(defaultModelDir(), { intraOpNumThreads: 1 });
    const result = await renderKey(model, key);
    const stranger = await renderKey(model, other);
    await model.release();
    const environment = (await currentEnvironment({ modelFiles: result.model.files })).map((c) =>
      c.id === 'node' ? { id: 'node', canonical: canonicalString('node', { version: '0.0.1' }) } : c,
    );
    const tampered = { ...result, png: stranger.png, pngSha256: stranger.pngSha256 };
    const file = join(SHOTS, 'tampered.gen5');
    writeFileSync(file, await encodeGen5(buildGen5Input(tampered, { environment })));

    await page.locator('#import-file').setInputFiles(file);
    await settled();
    const verdict = page.getByTestId('verification');
    await expect.poll(() => verdict.textContent(), { timeout: 60_000 }).toContain('Not bit-identical');
    expect(await verdict.textContent()).toContain("Environment component 'node' differs");
    expect(await keyText()).toBe(key);
    await shot('07-not-bit-identical');
  });

  it('shows a bad key error in place, with the character position', async () => {
    const { key } = await settled();
    const broken = `${key.slice(0, 12)}!${key.slice(13)}`;
    await page.getByTestId('key').fill(broken);
    await page.getByRole('button', { name: 'Open this key' }).click();
    const alert = page.getByTestId('error');
    await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(/12/);
    await shot('05-bad-key');
  });

  it('fits a phone-width screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Random' }).click();
    await settled();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('06-phone');
    await page.setViewportSize({ width: 1200, height: 900 });
  });
});

describe('rough edges (issue 16), default model', () => {
  serve();

  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const promptBox = () => page.getByLabel('Look for');
  const searchAgain = () => page.getByRole('button', { name: /^Search again for/ });

  it('a share link that is no key says so in plain words and leaves nothing to browse or share', async () => {
    await page.goto(`${server.url}/?k=not-a-key`);
    const alert = page.getByTestId('error');
    await expect.poll(() => alert.textContent(), { timeout: 60_000 }).toContain('is not a key of any known profile');
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/^"not-a-key" is not a key of any known profile: a key is "emoji-\d+\." and [\d,]+ more/);
    expect(text).not.toMatch(/alphabet|payload|189436|\[/);
    expect(await page.getByTestId('image').count()).toBe(0);
    for (const name of ['← Prev', 'Next →', 'Copy key', 'Copy link', 'Download .gen5', 'Download PNG'])
      expect(await button(name).isDisabled(), name).toBe(true);
    await shot('10-bad-share-link');
    await button('Random').click();
    await settled();
    expect(await button('Next →').isDisabled()).toBe(false);
  });

  it('with the server unreachable, Random says so instead of "Failed to fetch"', async () => {
    const shown = await settled();
    await page.route('**/api/random', (route) => route.abort('connectionrefused'));
    try {
      await button('Random').click();
      const alert = page.getByTestId('error');
      await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toContain('cannot be reached');
      expect(await alert.textContent()).not.toContain('Failed to fetch');
      expect(await keyText()).toBe(shown.key);
    } finally {
      await page.unroute('**/api/random');
    }
  });

  it('a junk import says it could not import the file, and why', async () => {
    const file = join(SHOTS, 'junk.gen5');
    writeFileSync(file, 'definitely not a gen5 !');
    await page.locator('#import-file').setInputFiles(file);
    const alert = page.getByTestId('error');
    await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(/^Could not import “junk\.gen5”: /);
    expect(await alert.textContent()).toContain('23 bytes');
  });

  it('the search box and "Search again" belong to the search on show: Random and opening a key clear them', async () => {
    await promptBox().fill('dog');
    await button('Search').click();
    await expect.poll(() => searchAgain().count(), { timeout: 60_000 }).toBe(1);
    const found = await settled();
    await button('Next →').click();
    await settled();
    expect(await promptBox().inputValue()).toBe('dog'); // a neighbour of the result keeps it
    expect(await searchAgain().textContent()).toContain('dog');

    await button('Random').click();
    await settled();
    expect(await promptBox().inputValue()).toBe('');
    expect(await searchAgain().count()).toBe(0);

    await promptBox().fill('dog');
    await button('Search').click();
    await expect.poll(() => searchAgain().count(), { timeout: 60_000 }).toBe(1);
    await settled();
    await page.getByTestId('key').fill(found.key);
    await button('Open this key').click();
    await expect.poll(keyText).toBe(found.key);
    await settled();
    expect(await promptBox().inputValue()).toBe('');
    expect(await searchAgain().count()).toBe(0);
  });

  it('while a render is pending, the key box, its count and Copy stay with the image on show', async () => {
    const before = await settled();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const continued: Promise<void>[] = [];
    await page.route('**/api/render', (route) => {
      continued.push(held.then(() => route.continue()));
    });
    try {
      await page.getByTestId('stride').selectOption('book'); // not prefetched: the render waits on the route
      await button('Next →').click();
      await expect.poll(() => page.getByTestId('progress').count(), { timeout: 10_000 }).toBe(1);
      expect(await keyText()).toBe(before.key);
      expect(await page.getByTestId('key-count').textContent()).toBe(
        `${before.key.length.toLocaleString('en')} characters`,
      );
      expect(await button('Copy key').isDisabled()).toBe(true);
      expect(await button('Download PNG').isDisabled()).toBe(true);
      await shot('11-pending');
    } finally {
      release();
      await Promise.all(continued);
      await page.unroute('**/api/render');
    }
    const after = await settled();
    expect(after.key).not.toBe(before.key);
    expect(await button('Copy key').isDisabled()).toBe(false);
    await page.getByTestId('stride').selectOption('page');
  });

  it('the character count describes the text in the box', async () => {
    const { key } = await settled();
    await page.getByTestId('key').fill('emoji-2.abc');
    expect(await page.getByTestId('key-count').textContent()).toBe('11 characters typed (not opened yet)');
    await page.getByTestId('key').fill(key);
    expect(await page.getByTestId('key-count').textContent()).toBe(`${key.length.toLocaleString('en')} characters`);
  });

  it('walks to the latest search result frame by frame, and stops on a frame whose key can be shared', async () => {
    await page.goto(server.url);
    await settled();
    await promptBox().fill('cat');
    await button('Search').click();
    await expect.poll(() => searchAgain().count(), { timeout: 60_000 }).toBe(1);
    const cat = await settled();
    await button('Random').click();
    const start = await settled();
    await page.getByRole('button', { name: 'the latest search result' }).click();
    expect(await page.getByTestId('walk-to').inputValue()).toBe(cat.key);
    const [request] = await Promise.all([page.waitForRequest('**/api/walk'), button('Walk').click()]);
    expect(JSON.parse(request.postData() ?? '{}')).toMatchObject({ from: start.key, to: cat.key, frames: 8 });
    const status = page.getByTestId('walk-status');
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toMatch(/^Frame 8 of 8/);
    expect(await settled()).toEqual(cat); // the last frame is the target itself
    // walk back, stopping on the way: the frame on show is one of the walk's keys, in the box and the address
    await page.getByTestId('walk-to').fill(start.key);
    await page.getByTestId('walk-frames').selectOption('32'); // long enough to stop mid-way without a race
    const [response] = await Promise.all([page.waitForResponse('**/api/walk'), button('Walk').click()]);
    expect(JSON.parse(response.request().postData() ?? '{}')).toMatchObject({
      from: cat.key,
      to: start.key,
      frames: 32,
    });
    const back = ((await response.json()) as { keys: string[] }).keys;
    await expect.poll(() => status.textContent(), { timeout: 120_000 }).toMatch(/^Frame ([2-9]|1\d) of 32/);
    await button('Stop here').click();
    await expect.poll(() => status.textContent()).toContain('this frame’s key is in the key box');
    const stopped = await settled();
    const frame = Number(/^Frame (\d+)/.exec((await status.textContent()) ?? '')?.[1]);
    expect(stopped.key).toBe(back[frame - 1]);
    expect(back.slice(1, -1)).toContain(stopped.key);
    const address = new URL(page.url());
    expect(address.searchParams.get('k')).toBe(stopped.key);
    expect(await button('Copy link').isDisabled()).toBe(false);
    await shot('12-walk-stopped');
  }, 240_000);

  it('a web search can try several and keep the best, starting at the model’s own number', async () => {
    await settled();
    const info = await (await page.request.get(new URL('/api/model', page.url()).href)).json();
    expect(await page.getByTestId('best-of').inputValue()).toBe(String(info.bestOfDefault));
    const other = info.bestOfDefault === 2 ? '4' : '2';
    await page.getByTestId('best-of').selectOption(other);
    await promptBox().fill('cat');
    const [request] = await Promise.all([page.waitForRequest('**/api/search'), button('Search').click()]);
    expect(JSON.parse(request.postData() ?? '{}')).toMatchObject({ prompt: 'cat', bestOf: Number(other) });
    await expect.poll(() => searchAgain().count(), { timeout: 90_000 }).toBe(1);
    await settled();
    expect(await page.getByTestId('best-of').inputValue()).toBe(other);
  });

  it("a web search can keep a guidance scale in its key, and the image shown is that key's", async () => {
    await settled();
    await page.getByTestId('best-of').selectOption('1');
    await page.getByTestId('guidance').selectOption('10');
    await promptBox().fill('red heart');
    const [request, response] = await Promise.all([
      page.waitForRequest('**/api/search'),
      page.waitForResponse('**/api/search'),
      button('Search').click(),
    ]);
    expect(JSON.parse(request.postData() ?? '{}')).toMatchObject({ prompt: 'red heart', guidance: 10 });
    const { key } = (await response.json()) as { key: string };
    expect(key).toMatch(/^emoji-cfg-[0-9]+\./);
    await expect.poll(() => searchAgain().count(), { timeout: 90_000 }).toBe(1);
    expect((await settled()).key).toBe(key);
    expect(await page.getByTestId('guidance').inputValue()).toBe('10');
    await page.getByTestId('guidance').selectOption('');
  });
});

describe('SD-sized keys (the tiny SD-shaped fixture model)', () => {
  serve({ LOB_MODEL: resolve(import.meta.dirname, '../fixtures/tiny-sd15') });

  it('reopens a ~159,000-character key from the fragment, keeps it out of the query, shows 512×512 as it is', async () => {
    const { key } = (await (await fetch(`${server.url}/api/random`)).json()) as { key: string };
    expect(key.length).toBeGreaterThan(100_000);
    await page.goto(`${server.url}/#k=${encodeURIComponent(key)}`);
    await expect.poll(keyText, { timeout: 60_000 }).toBe(key);
    const first = await settled();
    const image = page.getByTestId('image');
    expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(512);
    expect(await image.evaluate((img) => getComputedStyle(img).imageRendering)).not.toBe('pixelated');

    await page.locator('body').press('ArrowRight');
    await expect.poll(keyText, { timeout: 60_000 }).not.toBe(key);
    const next = await settled();
    expect(next.image).not.toBe(first.image);
    const address = new URL(page.url());
    expect(address.search).toBe('');
    expect(new URLSearchParams(address.hash.slice(1)).get('k')).toBe(next.key);
    await shot('08-sd-sized-key');
  });
});

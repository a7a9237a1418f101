/// <reference lib="dom" />
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type FleetReport } from '../../src/core/report.js';
import { renderReportHtml } from '../../src/core/report-html.js';
import { fleetPicture, PICTURE_LIMIT, rowsFromReport } from '../../src/entrypoints/action/picture.js';
import { parseConfig } from '../../src/entrypoints/config.js';
import { systemClock } from '../../src/ports/clock.js';
import type { CertificateStore } from '../../src/ports/store.js';
import { launchChromium } from '../support/browser.js';
import { tempDir } from '../support/certkeeper.js';
import { recordingLogger as captureLogger } from '../support/logger.js';
import { issueWithDaysLeft, memoryStore, storedFrom, type TestState } from '../support/report-fixtures.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

/**
 * The report's HTML page and the job summary's Mermaid picture, opened in Debian's Chromium
 * (headless, through playwright-core): every certificate is laid out, nothing is fetched, nothing
 * from a store becomes markup. Screenshots land in the temp dir named in the test output.
 */

const DAY = 86_400_000;
const require = createRequire(import.meta.url);
let browser: Browser;
let ca: TestCa;
let out: string;

interface Spec {
  id: string;
  left?: number;
  state?: TestState;
  broken?: string;
  domains?: string[];
}

async function reportOf(specs: Spec[]): Promise<FleetReport> {
  const config = parseConfig(
    {
      version: 1,
      acme: { directory: 'https://127.0.0.1:9/dir' },
      defaults: { dns: { provider: 'challtestsrv', url: 'http://127.0.0.1:9' } },
      certificates: specs.map((s) => ({ id: s.id, domains: s.domains ?? [`${s.id}.example.com`] })),
    },
    { env: {} },
  );
  const stores = new Map<string, CertificateStore>();
  // One certificate per distinct lifetime left: the report reads the names from the stored record,
  // so 500 entries can share 80 certificates (issuing 500 would take seconds).
  const byLeft = new Map<number, ReturnType<typeof issueWithDaysLeft>>();
  const certFor = (left: number) => {
    const known = byLeft.get(left);
    if (known) return known;
    const issued = issueWithDaysLeft(ca, [`left-${left}.example.com`], left);
    byLeft.set(left, issued);
    return issued;
  };
  await Promise.all(
    specs.map(async (s) => {
      const names = s.domains ?? [`${s.id}.example.com`];
      const record = s.left === undefined ? undefined : storedFrom(s.id, names, await certFor(s.left));
      const store = memoryStore(s.id, record, s.state);
      if (s.broken) {
        const why = s.broken;
        store.read = async () => ({ kind: 'unreadable', reason: why });
      }
      stores.set(s.id, store);
    }),
  );
  return buildReport(
    config,
    {},
    {
      adapters: { store: async (c) => stores.get(c.id) as CertificateStore },
      clock: systemClock,
      logger: captureLogger(),
    },
  );
}

/** 500 certificates: a few expired, critical, missing and unreadable, some warning, most ok, some failing. */
let fleet500: Promise<FleetReport> | undefined;
function fleetOf500(): Promise<FleetReport> {
  fleet500 ??= (async () => {
    const specs: Spec[] = [];
    for (let i = 0; i < 500; i++) {
      const id = `svc-${String(i).padStart(3, '0')}`;
      if (i < 6) specs.push({ id, left: -1 - i });
      else if (i < 20) specs.push({ id, left: 1 + (i % 6) });
      else if (i < 24) specs.push({ id });
      else if (i < 26) specs.push({ id, broken: 'not JSON' });
      else if (i < 60) specs.push({ id, left: 8 + (i % 6) });
      else {
        const failing = i % 37 === 0;
        specs.push({
          id,
          left: 30 + ((i * 7) % 58),
          ...(failing
            ? {
                state: {
                  failures: {
                    count: 2,
                    lastClass: 'acme-rate-limited',
                    lastMessage: 'too many new orders',
                    lastAttempt: new Date().toISOString(),
                    nextAttempt: new Date(Date.now() + 3_600_000).toISOString(),
                  },
                },
              }
            : {}),
        });
      }
    }
    return reportOf(specs);
  })();
  return fleet500;
}

async function openPage(html: string, name: string, viewport = { width: 1400, height: 900 }) {
  const path = join(out, `${name}.html`);
  await writeFile(path, html);
  const page = await browser.newPage({ viewport });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(path).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, url, path };
}

const countVisibleRows = (page: Page) =>
  page.evaluate(
    // checkVisibility: a folded <details> hides its content with content-visibility, not display.
    () =>
      Array.from(document.querySelectorAll<HTMLElement>('[data-cert]')).filter(
        (r) => r.checkVisibility() && r.offsetHeight > 0,
      ).length,
  );

beforeAll(async () => {
  [browser, ca, out] = await Promise.all([launchChromium(), createTestCa(), tempDir('ck-report-html-')]);
  console.log(`report pages and screenshots: ${out}`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const XSS = '<img src=x onerror="alert(1)"></div><script>alert(2)</script>';

describe('report --html in Chromium', () => {
  it('5 certificates: every row laid out, no request, no markup from store data', async () => {
    const now = Date.now();
    const report = await reportOf([
      { id: 'www', left: 61, domains: ['www.example.com', 'example.com', 'static.example.com'] },
      {
        id: 'api',
        left: 5,
        state: {
          failures: {
            count: 3,
            lastClass: 'dns-provider',
            lastMessage: XSS,
            lastAttempt: new Date(now - 3600_000).toISOString(),
            nextAttempt: new Date(now + 3600_000).toISOString(),
          },
        },
      },
      { id: 'legacy', left: -3 },
      {
        id: 'shop',
        left: 12,
        state: { ari: { start: new Date(now + 2 * DAY).toISOString(), end: new Date(now + 4 * DAY).toISOString() } },
      },
      { id: 'intranet', broken: `not JSON ${XSS}` },
    ]);
    const html = renderReportHtml(report);
    // Self-contained: nothing that could load anything, anywhere.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import/i);
    expect(html.match(/url\([^)]*\)/g) ?? []).toEqual(['url(#lg-h)']);
    expect(html).toContain("default-src 'none'");

    const { page, requests, url, path } = await openPage(html, 'report-5');
    expect(await page.locator('[data-cert]').count()).toBe(5);
    expect(await countVisibleRows(page)).toBe(5);
    expect(
      await page.evaluate(() => document.querySelectorAll('script, img, iframe, object, embed, [src], [href]').length),
    ).toBe(0);
    expect(requests).toEqual([url]);
    // The failure class is a badge, its message is text in the tooltip, never markup.
    const api = page.locator('[data-cert="api"]');
    expect(await api.locator('.badge').textContent()).toBe('dns-provider ×3');
    expect(await api.locator('.badge').getAttribute('title')).toContain(XSS);
    expect(await page.locator('[data-cert="intranet"] .empty').textContent()).toBe(`store unreadable: not JSON ${XSS}`);
    expect(
      await page.locator('details[open]').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-group'))),
    ).toEqual(['expired', 'critical', 'missing', 'warning', 'ok']);
    expect(await page.locator('[data-cert="shop"] .win.ari').count()).toBe(1);
    expect(await page.locator('.total').textContent()).toMatch(
      /5 certificates\s*1 ok\s*1 warning\s*1 critical\s*1 expired\s*1 missing\s*1 failing/,
    );
    await page.screenshot({ path: path.replace(/\.html$/, '.png'), fullPage: true });
    await page.close();
  });

  it('500 certificates: grouped, the healthy group folded, every row there and laid out when opened', async () => {
    const started = performance.now();
    const report = await fleetOf500();
    expect(report.summary).toMatchObject({ total: 500, expired: 6, critical: 14, missing: 6, warning: 34, ok: 440 });
    const html = renderReportHtml(report);
    expect(html.length).toBeLessThan(1_500_000);

    const { page, requests, url, path } = await openPage(html, 'report-500');
    expect(requests).toEqual([url]);
    expect(await page.locator('[data-cert]').count()).toBe(500);
    expect(await page.locator('details[data-group="ok"]').getAttribute('open')).toBeNull();
    // Folded, the urgent 60 are what the page shows first.
    expect(await countVisibleRows(page)).toBe(60);
    await page.screenshot({ path: path.replace(/\.html$/, '.png') });
    await page.evaluate(() => {
      for (const d of Array.from(document.querySelectorAll('details'))) d.open = true;
    });
    expect(await countVisibleRows(page)).toBe(500);
    await page.close();
    console.log(`500 certificates: report + HTML + Chromium in ${Math.round(performance.now() - started)} ms`);
  });
});

describe('the job summary picture (Mermaid gantt) in Chromium', () => {
  // One page with Mermaid (3.5 MB of script) loaded once for both pictures.
  let page: Page;
  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
    await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') });
  });
  afterAll(() => page?.close());

  async function render(markdown: string, name: string): Promise<{ tasks: number; svg: string }> {
    const fence = markdown.split('\n');
    const text = fence.slice(1, fence.indexOf('```', 1)).join('\n');
    const svg = await page.evaluate(
      async ({ t, id }) => {
        const m = (
          window as unknown as {
            mermaid: { initialize(o: object): void; render(id: string, t: string): Promise<{ svg: string }> };
          }
        ).mermaid;
        m.initialize({ startOnLoad: false });
        const r = await m.render(id, t);
        (document.getElementById('out') as HTMLElement).innerHTML = r.svg;
        return r.svg;
      },
      { t: text, id: name },
    );
    const tasks = await page.locator('#out rect.task').count();
    await page.screenshot({ path: join(out, `${name}.png`) });
    return { tasks, svg };
  }

  it('renders one bar per certificate, today marked, for 5', async () => {
    const report = await reportOf([
      { id: 'www', left: 61 },
      {
        id: 'api',
        left: 5,
        state: {
          failures: {
            count: 1,
            lastClass: 'dns-provider',
            lastMessage: 'route53: Throttling',
            lastAttempt: new Date().toISOString(),
            nextAttempt: new Date(Date.now() + 60_000).toISOString(),
          },
        },
      },
      { id: 'legacy', left: -3 },
      { id: 'shop', left: 12 },
      { id: 'new' },
    ]);
    const md = fleetPicture(rowsFromReport(report), new Date(report.generatedAt));
    expect(md).toMatch(/^```mermaid\ngantt\n/);
    const { tasks, svg } = await render(md, 'picture-5');
    expect(tasks).toBe(5); // the missing one as a milestone
    expect(svg).toMatch(/class="task milestone/);
    expect(svg).toContain('today');
    expect(svg).toMatch(/api · 4d · dns-provider/);
    expect(svg).not.toContain('Syntax error');
  });

  it('stays bounded for 500: the most urgent, the rest counted', async () => {
    const report = await fleetOf500();
    const md = fleetPicture(rowsFromReport(report), new Date(report.generatedAt));
    expect(md.length).toBeLessThan(3000);
    expect(md).toContain(`title ${PICTURE_LIMIT} most urgent of 500 certificates`);
    expect(md).toContain(`${500 - PICTURE_LIMIT} more`);
    const { tasks } = await render(md, 'picture-500');
    expect(tasks).toBe(PICTURE_LIMIT);
  });
});

// End-to-end: one run of 10 million steps with a single outlier. The chart must draw the
// outlier at full zoom-out, after a box zoom, and after a second zoom down to single steps,
// each time from a new exact request (the server's M4 buckets, never sampled). Checked on the
// data the panel draws (`window.__heronCharts`).
//
// The 10M points go in over the HTTP API in batches of 100k rows (what the SDKs' uploaders
// send); logging them through Python first would only make the test slower.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser, signedInPage, startServer } from "./harness.mjs";

const STEPS = 10_000_000;
const SPIKE_STEP = 7_654_321;
const SPIKE = 1e6;
const KEY = "loss";
const PANEL = `k:${KEY}`;

async function waitFor(page, check, arg, timeout = 30_000) {
  const handle = await page.waitForFunction(check, arg, { timeout, polling: 100 });
  return handle.jsonValue();
}

/** Drags a box over [x0, x1] (data units) on the panel, whose plot spans `range`. */
async function boxZoom(page, range, x0, x1) {
  const box = await page.locator(`[data-panel-id="${PANEL}"] .u-over`).boundingBox();
  const px = (x) => box.x + ((x - range[0]) / (range[1] - range[0])) * box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(px(x0), y);
  await page.mouse.down();
  await page.mouse.move((px(x0) + px(x1)) / 2, y, { steps: 4 });
  await page.mouse.move(px(x1), y, { steps: 4 });
  await page.mouse.up();
}

/** Waits for the panel to draw an answer newer than `fetches` whose x range is narrower than `width`. */
async function drawnAfter(page, fetches, width) {
  try {
    return await waitFor(
      page,
      ([id, fetches, width]) => {
        const c = window.__heronCharts?.[id];
        return c && c.fetches > fetches && c.xMax - c.xMin < width && c.series[0]?.x.length > 0 ? c : null;
      },
      [PANEL, fetches, width],
    );
  } catch (error) {
    const now = await page.evaluate((id) => {
      const c = window.__heronCharts?.[id];
      return c && { fetches: c.fetches, xMin: c.xMin, xMax: c.xMax, zoom: c.zoom, points: c.series[0]?.x.length };
    }, PANEL);
    throw new Error(`no zoomed answer (after ${fetches} requests, narrower than ${width}); the panel now: ${JSON.stringify(now)}`, { cause: error });
  }
}

function spikeOf(chart) {
  const s = chart.series[0];
  const top = Math.max(...s.y.filter((y) => y !== null));
  return { top, at: s.x[s.y.indexOf(top)], points: s.x.length };
}

describe("a single spike in 10M steps", () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer();
    await server.api("POST", "/projects/admin/spike/runs", { id: "long", name: "ten-million" });
    const batch = 100_000;
    for (let first = 0, seq = 1; first < STEPS; first += batch, seq++) {
      const rows = [];
      for (let step = first; step < first + batch; step++) {
        rows.push({ step, time: 1.8e9 + step / 1000, scalars: { [KEY]: step === SPIKE_STEP ? SPIKE : 1 + Math.sin(step / 1e5) / 10 } });
      }
      const ack = await server.api("POST", "/projects/admin/spike/runs/long/history", { seq, rows });
      assert.equal(ack.points, batch);
    }
    browser = await launchBrowser();
    page = await signedInPage(browser, server);
    await page.goto(`${server.url}/projects/admin/spike`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("is drawn at full zoom-out, after a zoom, and at single-step resolution", async () => {
    const full = await waitFor(page, (id) => {
      const c = window.__heronCharts?.[id];
      return c && c.series[0]?.x.length > 0 ? c : null;
    }, PANEL);
    assert.equal(full.xMin, 0);
    assert.equal(full.xMax, STEPS - 1);
    const box = await page.locator(`[data-panel-id="${PANEL}"] .u-over`).boundingBox();
    const whole = spikeOf(full);
    assert.equal(whole.top, SPIKE, "the outlier is drawn over 10M steps");
    assert.equal(whole.at, SPIKE_STEP);
    assert.ok(whole.points <= 4 * box.width + 200, `${whole.points} points drawn for ${box.width} px: never more than the pixels`);

    // Zoom in step by step around the spike (each drag covers a few percent of the plot, as a
    // user would drag): 1M steps, 70k, 4k, then 300 steps, fewer than the panel's pixels.
    let shown = full;
    for (const [x0, x1] of [
      [7_000_000, 8_000_000],
      [7_620_000, 7_690_000],
      [SPIKE_STEP - 2_000, SPIKE_STEP + 2_000],
      [SPIKE_STEP - 150, SPIKE_STEP + 150],
    ]) {
      await boxZoom(page, [shown.xMin, shown.xMax], x0, x1);
      const next = await drawnAfter(page, shown.fetches, (x1 - x0) * 1.5);
      const slack = (x1 - x0) * 0.1;
      assert.ok(next.xMin >= x0 - slack && next.xMax <= x1 + slack, `zoomed to ${next.xMin}..${next.xMax}, dragged ${x0}..${x1}`);
      for (const x of next.series[0].x) assert.ok(x >= next.xMin && x <= next.xMax, `x ${x} inside the zoom`);
      assert.deepEqual([spikeOf(next).top, spikeOf(next).at], [SPIKE, SPIKE_STEP], `the outlier is drawn zoomed to ${x0}..${x1}`);
      shown = next;
    }
    const close = shown;
    const steps = close.series[0].x;
    assert.deepEqual([spikeOf(close).top, spikeOf(close).at], [SPIKE, SPIKE_STEP], "the outlier at single-step zoom");
    const first = Math.ceil(close.xMin);
    const last = Math.floor(close.xMax);
    for (let step = first; step <= last; step++) assert.ok(steps.includes(step), `step ${step} is drawn`);
    const y = close.series[0].y[steps.indexOf(SPIKE_STEP - 1)];
    assert.ok(Math.abs(y - (1 + Math.sin((SPIKE_STEP - 1) / 1e5) / 10)) < 1e-12, "neighbours keep their exact values");
  });
});

// P8 (DESIGN §5): time to the first chart of 100 runs x 100k points in headless Chromium.
//
// Run by heron-bench against its P4 server (the store it loaded: 100 runs x 100k steps of one
// key). Each repetition is a fresh browser context (nothing cached): it opens the project's
// workspace signed in by cookie, and the clock stops when the first panel has drawn every
// run's line (the dashboard publishes what each panel draws on window.__heronCharts). Also
// records the chart requests' payload per panel, checks the planted spike is drawn, and saves
// a screenshot of the workspace.
//
// usage: node bench/p8_dashboard.mjs --url URL --key KEY --project P --runs N --spike V
//          --out FILE.json --screenshot FILE.png [--repeats 5] [--chromium /usr/bin/chromium]
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../web/package.json"));
const { chromium } = require("playwright-core");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const repeats = Number(args.repeats ?? 5);
const runs = Number(args.runs ?? 100);
const spike = Number(args.spike);

const browser = await chromium.launch({
  executablePath: args.chromium ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const samples = [];
let payload = null;
let spikeDrawn = null;
try {
  for (let i = 0; i < repeats; i++) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    await context.addCookies([{ name: "heron_key", value: args.key, url: args.url }]);
    const page = await context.newPage();
    const charts = [];
    page.on("response", async (response) => {
      if (response.url().endsWith("/chart") && response.request().method() === "POST") {
        try {
          const body = await response.body();
          charts.push({ bytes: body.length, request: JSON.parse(response.request().postData() ?? "{}") });
        } catch {
          // A response the page aborted (superseded by a newer request): not counted.
        }
      }
    });
    await page.goto(`${args.url}/projects/admin/${args.project}`, { waitUntil: "commit" });
    const drawn = await page.waitForFunction(
      (runs) => {
        const panels = Object.values(window.__heronCharts ?? {});
        const full = panels.find((p) => p.series.length >= runs && p.series.every((s) => s.x.length > 0));
        if (!full) return null;
        const ms = performance.now();
        let max = -Infinity;
        let points = 0;
        for (const s of full.series) {
          points += s.x.length;
          for (const v of s.y) if (v !== null && v > max) max = v;
        }
        // What went over the wire for the chart requests (compressed) and what it decoded to.
        const wire = performance
          .getEntriesByType("resource")
          .filter((e) => e.name.endsWith("/chart"))
          .map((e) => ({ encoded: e.encodedBodySize, decoded: e.decodedBodySize }));
        return { ms, points, max, wire };
      },
      runs,
      { timeout: 60_000, polling: "raf" },
    );
    const result = await drawn.jsonValue();
    samples.push(result.ms);
    spikeDrawn = result.max === spike;
    if (i === repeats - 1) {
      await page.waitForTimeout(300);
      payload = {
        requests: charts.length,
        bytes_per_request: charts.map((c) => c.bytes),
        buckets: charts.map((c) => c.request.buckets),
        runs_per_request: charts.map((c) => (c.request.runs ?? []).length),
        points_drawn: result.points,
        transferred_bytes_per_request: result.wire.map((w) => w.encoded),
      };
      if (args.screenshot) await page.screenshot({ path: args.screenshot });
    }
    await context.close();
    process.stderr.write(`P8 repetition ${i + 1}: first chart in ${result.ms.toFixed(0)} ms\n`);
  }
} finally {
  await browser.close();
}
const sorted = [...samples].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
const out = { runs, repeats, first_chart_ms: samples, median_ms: median, payload, spike_drawn: spikeDrawn };
writeFileSync(args.out, JSON.stringify(out, null, 2));
process.stderr.write(`P8: median ${median.toFixed(0)} ms over ${repeats}; spike drawn: ${spikeDrawn}\n`);

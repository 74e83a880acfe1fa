// End-to-end: the chart workspace on the real server with runs logged by the real Python SDK.
// Panels publish what they draw on `window.__heronCharts` (see src/charts/LinePanel.tsx). The
// harness server serves this checkout's `web/dist`: run `npm run build` first.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser, python, pythonInBackground, signedInPage, startServer } from "./harness.mjs";

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/index.html");
const SPIKE_STEP = 123_457;
const STEPS = 200_000;

/** Polls `check` in the page until it returns a truthy value. */
async function waitFor(page, check, arg, timeout = 20_000) {
  const handle = await page.waitForFunction(check, arg, { timeout, polling: 100 });
  return handle.jsonValue();
}

/** What the panel `id` draws right now. */
function chart(page, id) {
  return page.evaluate((id) => window.__heronCharts?.[id] ?? null, id);
}

/** Pixel x of data value `x` on a panel's plot area, from the x range it fits (unzoomed: the data extent). */
async function plotX(page, id, x, range) {
  const box = await page.locator(`[data-panel-id="${id}"] .u-over`).boundingBox();
  return { x: box.x + ((x - range[0]) / (range[1] - range[0])) * box.width, y: box.y + box.height / 2, box };
}

describe("chart workspace", () => {
  let server;
  let browser;
  let page;
  let base;
  let spikyId;

  before(async () => {
    assert.ok(existsSync(DIST), "build the dashboard first: npm run build");
    server = await startServer();
    const out = python(
      server,
      `
import heron, math
for r in range(2):
    run = heron.init(project="p", name=f"small-{r}", config={"lr": 0.1 * (r + 1)})
    for i in range(300):
        run.log({"train/loss": 2.0 * math.exp(-i / 80) + 0.1 * r, "val/loss": 1.5 * math.exp(-i / 120), "epoch": i // 30})
    run.finish()
run = heron.init(project="p", name="spiky", config={"lr": 0.5})
for i in range(${STEPS}):
    run.log({"train/loss": 1e6 if i == ${SPIKE_STEP} else 1.0 + 0.1 * math.sin(i / 5000)})
print(run.id)
run.finish()
`,
    );
    spikyId = out.trim().split("\n").pop();
    base = server.url;
    browser = await launchBrowser();
    page = await signedInPage(browser, server);
    await page.goto(`${base}/projects/admin/p`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows one panel per key, in sections by prefix", async () => {
    for (const key of ["train/loss", "val/loss", "epoch"]) {
      await page.locator(`[data-testid="panel"][data-keys="${key}"]`).waitFor({ timeout: 20_000 });
    }
    const sections = await page.locator(".ws-section").evaluateAll((els) => els.map((e) => e.getAttribute("data-section")));
    assert.deepEqual(sections, ["Charts", "train", "val"]);
    const loss = await waitFor(page, () => window.__heronCharts?.["k:val/loss"]?.series.length === 3 && window.__heronCharts["k:val/loss"]);
    for (const s of loss.series) {
      // The spiky run has no val/loss: its series is empty.
      assert.equal(s.x.length, s.run === spikyId ? 0 : 300, `${s.label}: every step of a short run is drawn`);
    }
  });

  it("keeps a single spike at full zoom-out and after a box zoom, from a new exact request", async () => {
    const id = "k:train/loss";
    const full = await waitFor(
      page,
      ([id, run]) => {
        const c = window.__heronCharts?.[id];
        const s = c?.series.find((s) => s.run === run);
        return s && s.x.length > 0 ? c : null;
      },
      [id, spikyId],
    );
    const spiky = full.series.find((s) => s.run === spikyId);
    const top = Math.max(...spiky.y.filter((y) => y !== null));
    assert.equal(top, 1e6, "the outlier is drawn at full zoom-out");
    assert.equal(spiky.x[spiky.y.indexOf(1e6)], SPIKE_STEP);
    assert.equal(full.xMin, 0);
    assert.equal(full.xMax, STEPS - 1);
    const { box } = await plotX(page, id, 0, [0, 1]);
    assert.ok(spiky.x.length <= 4 * box.width + 200, `${spiky.x.length} points for ${box.width} px`);

    // Drag over [110 000, 140 000] around the spike.
    const from = await plotX(page, id, 110_000, [full.xMin, full.xMax]);
    const to = await plotX(page, id, 140_000, [full.xMin, full.xMax]);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, from.y, { steps: 4 });
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await page.locator(`[data-panel-id="${id}"][data-zoomed="true"]`).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-zoomed="true"]').count(), 1, "only the dragged panel zooms");
    const zoomed = await waitFor(
      page,
      ([id, fetches]) => {
        const c = window.__heronCharts?.[id];
        return c && c.zoom && c.fetches > fetches && c.xMax - c.xMin < 50_000 && c.series.some((s) => s.x.length > 0) ? c : null;
      },
      [id, full.fetches],
    );
    const [z0, z1] = zoomed.zoom;
    assert.ok(Math.abs(z0 - 110_000) < 2_000 && Math.abs(z1 - 140_000) < 2_000, `zoom ${z0}..${z1}`);
    assert.ok(zoomed.xMin >= z0 - 1 && zoomed.xMax <= z1 + 1, "the server answered the zoomed range");
    const spikyZoomed = zoomed.series.find((s) => s.run === spikyId);
    for (const s of zoomed.series) for (const x of s.x) assert.ok(x >= z0 - 1 && x <= z1 + 1, `${s.label}: x ${x} inside the zoom`);
    assert.equal(Math.max(...spikyZoomed.y.filter((y) => y !== null)), 1e6, "the outlier is drawn after the zoom");
    assert.equal(spikyZoomed.x[spikyZoomed.y.indexOf(1e6)], SPIKE_STEP);
    // Zooming in is finer: more points per step than at full zoom-out.
    const before = spiky.x.filter((x) => x >= z0 && x <= z1).length;
    assert.ok(spikyZoomed.x.length > before, `zoomed ${spikyZoomed.x.length} points > ${before}`);
    assert.ok(page.url().includes("ws="), "the zoom is in the URL");

    // Double-click resets to the whole range, with another request.
    const center = await plotX(page, id, 0, [0, 1]);
    await page.mouse.dblclick(center.box.x + center.box.width / 2, center.y);
    await page.locator(`[data-panel-id="${id}"][data-zoomed="false"]`).waitFor({ timeout: 10_000 });
    const reset = await waitFor(
      page,
      ([id, fetches]) => {
        const c = window.__heronCharts?.[id];
        return c && !c.zoom && c.fetches > fetches && c.xMax === 199_999 ? c : null;
      },
      [id, zoomed.fetches],
    );
    assert.equal(Math.max(...reset.series.find((s) => s.run === spikyId).y.filter((y) => y !== null)), 1e6);
  });

  it("adds a panel from a regex and keeps it in the URL", async () => {
    await page.getByRole("button", { name: "Add panel" }).click();
    await page.getByLabel("keys", { exact: true }).fill("/^train\\//");
    await page.locator(".dialog").getByRole("button", { name: "Add panel" }).click();
    await page.locator(`[data-testid="panel"][data-panel-id="p1"]`).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator(`[data-panel-id="p1"]`).getAttribute("data-keys"), "train/loss");
    const ws = JSON.parse(new URL(page.url()).searchParams.get("ws"));
    assert.deepEqual(ws.added, [{ id: "p1", keys: ["/^train\\//"] }]);
    // The panel survives a reload (its state is the URL).
    await page.reload();
    await page.locator(`[data-panel-id="p1"]`).waitFor({ timeout: 20_000 });
  });

  it("resizes a panel, shows it full screen and collapses a section, all kept in the URL", async () => {
    const panel = page.locator('[data-panel-id="k:val/loss"]');
    await panel.hover();
    await panel.getByRole("button", { name: "Panel settings" }).click();
    await panel.getByRole("group", { name: "width" }).getByRole("button", { name: "Full" }).click();
    await page.waitForFunction(() => document.querySelector('[data-panel-id="k:val/loss"]').classList.contains("w-full"));
    await panel.getByRole("button", { name: "Close" }).click();
    let ws = JSON.parse(new URL(page.url()).searchParams.get("ws"));
    assert.deepEqual(ws.settings["k:val/loss"], { width: "full" });
    // A wider panel asks for more buckets (about one per pixel).
    await waitFor(page, () => (window.__heronCharts?.["k:val/loss"]?.buckets ?? 0) > 600);

    await panel.hover();
    await panel.getByRole("button", { name: "Full screen" }).click();
    const full = await waitFor(page, () => {
      const c = window.__heronCharts?.["k:val/loss#full"];
      return c && c.series.some((s) => s.x.length > 0) ? c : null;
    });
    assert.deepEqual(full.keys, ["val/loss"]);
    await page.keyboard.press("Escape");
    await page.locator('[data-panel-id="k:val/loss#full"]').waitFor({ state: "detached" });

    await page.locator('.ws-section[data-section="val"] .ws-section-head').click();
    await page.locator('[data-panel-id="k:val/loss"]').waitFor({ state: "detached" });
    ws = JSON.parse(new URL(page.url()).searchParams.get("ws"));
    assert.deepEqual(ws.collapsed, ["val"]);
    await page.locator('.ws-section[data-section="val"] .ws-section-head').click();
    await page.locator('[data-panel-id="k:val/loss"]').waitFor();
  });

  it("saves the workspace as a named view and loads it again", async () => {
    const saved = new URL(page.url()).searchParams.get("ws");
    assert.ok(saved, "the workspace has state to save");
    await page.getByRole("button", { name: "Save view" }).click();
    await page.getByLabel("View name").fill("regex panel");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator('select[aria-label="Saved views"] option[value="regex panel"]').waitFor({ state: "attached" });
    const views = await server.api("GET", "/projects/admin/p/views");
    const view = views.find((v) => v.name === "regex panel");
    assert.equal(view.state.ws, saved);

    await page.goto(`${base}/projects/admin/p`);
    await page.locator(`[data-testid="panel"][data-keys="train/loss"]`).first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(`[data-panel-id="p1"]`).count(), 0);
    await page.locator('select[aria-label="Saved views"] option[value="regex panel"]').waitFor({ state: "attached" });
    await page.getByLabel("Saved views").selectOption("regex panel");
    await page.locator(`[data-panel-id="p1"]`).waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).searchParams.get("ws"), saved);
  });

  it("uses the x-axis and hiding that define_metric declared", async () => {
    python(
      server,
      `
import heron
run = heron.init(project="dm")
heron.define_metric("val/*", step_metric="epoch")
heron.define_metric("debug/*", hidden=True)
for i in range(100):
    run.log({"val/loss": 1.0 / (i + 1), "epoch": i // 10, "debug/grad": 0.5, "train/loss": 2.0})
run.finish()
`,
    );
    await page.goto(`${base}/projects/admin/dm`);
    const val = await waitFor(page, () => {
      const c = window.__heronCharts?.["k:val/loss"];
      return c && c.series[0]?.x.length > 0 ? c : null;
    });
    assert.equal(val.xMax, 9, "val/loss is drawn against epoch (0..9), not step (0..99)");
    const train = await waitFor(page, () => {
      const c = window.__heronCharts?.["k:train/loss"];
      return c && c.series[0]?.x.length > 0 ? c : null;
    });
    assert.equal(train.xMax, 99, "other keys keep the step axis");
    assert.equal(await page.locator('[data-testid="panel"][data-keys="debug/grad"]').count(), 0, "a hidden metric has no default panel");
  });

  it("moves a panel within its section and keeps the order after a reload", async () => {
    python(
      server,
      `
import heron
run = heron.init(project="mv")
for i in range(20):
    run.log({"train/acc": i, "train/loss": -i, "train/lr": 0.1})
run.finish()
`,
    );
    await page.goto(`${base}/projects/admin/mv`);
    await page.locator('[data-testid="panel"][data-keys="train/lr"]').waitFor({ timeout: 20_000 });
    const order = () => page.locator('[data-testid="panel"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-keys")));
    assert.deepEqual(await order(), ["train/acc", "train/loss", "train/lr"]);
    await page.locator('[data-panel-id="k:train/lr"] [aria-label="Panel settings"]').click();
    await page.getByTestId("panel-move-earlier").click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get("ws")?.includes("order"));
    assert.deepEqual(await order(), ["train/acc", "train/lr", "train/loss"]);
    await page.reload();
    await page.locator('[data-testid="panel"][data-keys="train/lr"]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await order(), ["train/acc", "train/lr", "train/loss"], "the order is in the URL");
  });

  it("draws one line per group when runs are grouped", async (t) => {
    await page.goto(`${base}/projects/admin/p?group=${encodeURIComponent(JSON.stringify(["config.lr"]))}`);
    t.after(() => page.goto(`${base}/projects/admin/p`));
    const grouped = await waitFor(page, () => {
      const c = window.__heronCharts?.["k:train/loss"];
      return c && c.series.length === 3 && c.series.every((s) => s.run.startsWith("group:")) ? c : null;
    });
    assert.deepEqual(grouped.series.map((s) => s.label), ["0.1 (1)", "0.2 (1)", "0.5 (1)"]);
    // A group line is exact too: the spike of the one-run group survives aggregation.
    const spikeGroup = grouped.series.find((s) => s.label.startsWith("0.5"));
    assert.equal(Math.max(...spikeGroup.y.filter((y) => y !== null)), 1e6);
  });

  it("draws new points of a live run without a reload", async () => {
    const child = pythonInBackground(
      server,
      `
import heron, sys
run = heron.init(project="p", name="live")
for i in range(5):
    run.log({"train/loss": 5.0 + i})
print(run.id, flush=True)
sys.stdin.readline()
for i in range(5, 10):
    run.log({"train/loss": 5.0 + i})
run.finish()
`,
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const liveId = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk) => {
          out += chunk;
          if (out.includes("\n")) resolve(out.trim());
        });
        child.once("exit", (code) => reject(new Error(`live run exited ${code}: ${stderr}`)));
      });
      const lastStep = (n) =>
        waitFor(
          page,
          ([id, run, n]) => {
            const s = window.__heronCharts?.[id]?.series.find((s) => s.run === run);
            return s && s.x.length > 0 && Math.max(...s.x) === n;
          },
          ["k:train/loss", liveId, n],
          30_000,
        );
      await lastStep(4);
      const loads = await page.evaluate(() => performance.getEntriesByType("navigation").length);
      child.stdin.write("go\n");
      await lastStep(9);
      assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), loads);
    } finally {
      child.stdin.end();
      await exited;
    }
  });
});

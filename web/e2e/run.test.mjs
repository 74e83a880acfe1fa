// End-to-end: the run page, the run comparer and the analysis tab, on the real server with runs
// logged by the real Python SDK, in headless Chromium.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ENTITY, launchBrowser, python, pythonInBackground, signedInPage, startServer } from "./harness.mjs";

const PROJECT = "e2e-run";
const RED = "rgb(201, 27, 0)"; // BASIC_COLORS[1] in src/run/ansi.ts

const LOG_RUNS = `
import math, os, sys
import heron
os.makedirs("ckpt", exist_ok=True)
for i, (lr, layers, dropout) in enumerate([(0.01, 2, 0.1), (0.1, 4, 0.2), (0.001, 6, 0.3)]):
    run = heron.init(project="${PROJECT}", name=f"run-{i}", config={"lr": lr, "layers": layers, "dropout": dropout, "batch_size": 32, "optimizer": "adam" if i != 1 else "sgd"}, tags=["base"])
    for step in range(100):
        run.log({"loss": math.exp(-step * lr) + 0.01 * i, "acc": 1 - math.exp(-step * lr)})
    print(f"\\x1b[31mred alert {i}\\x1b[0m then \\x1b[1;38;5;208mbold orange\\x1b[0m")
    print("plain line", i)
    print(f"warning from run {i}", file=sys.stderr)
    with open("ckpt/model.txt", "w") as f:
        f.write(f"weights {i}\\n")
    run.save("ckpt/model.txt", base_path=".")
    run.summary["best_acc"] = 0.5 + 0.1 * i
    run.finish()
`;

let server;
let browser;
/** The logged runs by name. */
const runs = {};

function runUrl(id, tab) {
  return `${server.url}/projects/${ENTITY}/${PROJECT}/runs/${id}${tab ? `?tab=${tab}` : ""}`;
}

before(async () => {
  server = await startServer();
  python(server, LOG_RUNS);
  const page = await server.api("GET", `/projects/${ENTITY}/${PROJECT}/runs`);
  for (const run of page.runs) runs[run.name] = run;
  assert.equal(Object.keys(runs).length, 3);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("run page", () => {
  test("overview shows state, config and summary", async () => {
    const page = await signedInPage(browser, server);
    const run = runs["run-1"];
    await page.goto(runUrl(run.id));
    await page.getByTestId("run-page").waitFor();
    assert.equal((await page.getByTestId("run-state").textContent()).trim(), "finished");
    const lr = page.locator('[data-testid="run-config"] [data-path="lr"] .kv-value');
    assert.equal((await lr.textContent()).trim(), "0.1");
    const best = page.locator('[data-testid="run-summary"] [data-path="best_acc"] .kv-value');
    assert.equal((await best.textContent()).trim(), "0.6");
    // Searching the config keeps the matching rows only.
    await page.getByPlaceholder("Search config").fill("drop");
    await page.locator('[data-testid="run-config"] [data-path="lr"]').waitFor({ state: "detached" });
    assert.equal(await page.locator('[data-testid="run-config"] [data-path="dropout"]').count(), 1);
    assert.match(await page.getByText("Python", { exact: true }).locator("xpath=..").textContent(), /Python\s*CPython 3\./);
    await page.close();
  });

  test("console renders ANSI colours, searches and filters", async () => {
    const page = await signedInPage(browser, server);
    const run = runs["run-0"];
    await page.goto(runUrl(run.id, "console"));
    const lines = page.getByTestId("console-line");
    await lines.first().waitFor();
    assert.equal(await lines.count(), 3);
    const first = lines.nth(0);
    assert.equal((await first.textContent()).replace(/^1/, ""), "red alert 0 then bold orange");
    const red = first.locator("span", { hasText: "red alert 0" }).last();
    assert.equal(await red.evaluate((el) => getComputedStyle(el).color), RED);
    const orange = first.locator("span", { hasText: "bold orange" }).last();
    assert.equal(await orange.evaluate((el) => getComputedStyle(el).color), "rgb(255, 135, 0)");
    assert.equal(await orange.evaluate((el) => getComputedStyle(el).fontWeight), "700");
    assert.match(await lines.nth(2).getAttribute("class"), /stderr/);

    await page.getByTestId("console-search").fill("LINE");
    await page.locator("[data-testid=console-line] mark").first().waitFor();
    assert.equal(await page.locator("[data-testid=console-line] mark").count(), 1);
    assert.equal((await page.getByTestId("console-match-count").textContent()).trim(), "1 / 1");
    await page.getByLabel("only matching lines").check();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=console-line]").length === 1);
    assert.match(await lines.first().textContent(), /plain line 0/);
    await page.close();
  });

  test("notes, tags and name are edited and persist", async () => {
    const page = await signedInPage(browser, server);
    const run = runs["run-2"];
    await page.goto(runUrl(run.id));
    await page.getByTestId("notes-input").fill("tuned by the e2e test");
    await page.getByTestId("notes-save").click();
    await page.getByTestId("notes-saved").waitFor();

    await page.getByTestId("tag-input").fill("e2e-tag");
    await page.getByTestId("tag-input").press("Enter");
    await page.locator('[data-testid="tag"][data-tag="e2e-tag"]').waitFor();
    await page.locator('[data-testid="tag"][data-tag="base"] [data-testid="tag-remove"]').click();
    await page.locator('[data-testid="tag"][data-tag="base"]').waitFor({ state: "detached" });

    await page.getByTestId("rename").click();
    await page.getByTestId("name-input").fill("renamed-run");
    await page.getByTestId("name-input").press("Enter");
    await page.getByText("renamed-run").first().waitFor();

    const stored = await server.api("GET", `/projects/${ENTITY}/${PROJECT}/runs/${run.id}`);
    assert.equal(stored.notes, "tuned by the e2e test");
    assert.deepEqual(stored.tags, ["e2e-tag"]);
    assert.equal(stored.name, "renamed-run");

    // A reload reads them back from the server.
    await page.reload();
    await page.locator('[data-testid="tag"][data-tag="e2e-tag"]').waitFor();
    assert.equal(await page.getByTestId("notes-input").inputValue(), "tuned by the e2e test");
    assert.equal((await page.getByTestId("run-name").textContent()).replace("✎", "").trim(), "renamed-run");
    await page.close();
  });

  test("charts draw one chart per history key", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(runUrl(runs["run-0"].id, "charts"));
    await page.locator('[data-testid="run-chart"][data-key="loss"] canvas').waitFor();
    const keys = await page.getByTestId("run-chart").evaluateAll((els) => els.map((el) => el.dataset.key));
    assert.deepEqual(keys, ["acc", "loss"]);
    await page.close();
  });

  test("files are listed by folder with working downloads and export links", async () => {
    const page = await signedInPage(browser, server);
    const run = runs["run-1"];
    await page.goto(runUrl(run.id, "files"));
    await page.locator('[data-testid="folder-row"][data-path="ckpt"]').waitFor();
    const row = page.locator('[data-testid="file-row"][data-path="ckpt/model.txt"]');
    await row.waitFor();
    const href = await row.getByTestId("file-download").getAttribute("href");
    const body = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    assert.equal(body, "weights 1\n");
    const csv = await page.evaluate(
      async (url) => (await fetch(url)).text(),
      await page.getByTestId("export-csv").getAttribute("href"),
    );
    assert.match(csv.split("\n")[0], /^_step,_timestamp,acc,loss/);
    await page.close();
  });

  test("a running run shows live state and follows its console", async () => {
    const child = pythonInBackground(
      server,
      `
import sys, time
import heron
run = heron.init(project="${PROJECT}", name="live-run", config={"lr": 0.5, "layers": 1, "dropout": 0.0})
print("started", flush=True)
sys.stdin.readline()
for i in range(5):
    print(f"tick {i}", flush=True)
    run.log({"loss": 1.0 / (i + 1)})
run.finish()
`,
    );
    try {
      let live;
      for (let i = 0; i < 100 && !live; i++) {
        const page = await server.api("GET", `/projects/${ENTITY}/${PROJECT}/runs?filter=${encodeURIComponent('name = "live-run"')}`);
        live = page.runs[0];
        if (!live) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(live, "the live run was created");
      const page = await signedInPage(browser, server);
      await page.goto(runUrl(live.id, "console"));
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor();
      assert.equal(await page.locator('[data-testid="run-state"] .pulse').count(), 1);
      await page.getByTestId("console-line").filter({ hasText: "started" }).waitFor({ timeout: 20_000 });
      child.stdin.write("go\n");
      await page.getByTestId("console-line").filter({ hasText: "tick 4" }).waitFor({ timeout: 20_000 });
      await page.locator('[data-testid="run-state"][data-state="finished"]').waitFor({ timeout: 20_000 });
      await page.close();
    } finally {
      if (child.exitCode === null) {
        child.stdin.end();
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
  });
});

describe("compare", () => {
  test("shows differing fields only, and everything on demand", async () => {
    const page = await signedInPage(browser, server);
    const [a, b] = [runs["run-0"], runs["run-1"]];
    await page.goto(`${server.url}/projects/${ENTITY}/${PROJECT}/compare?runs=${a.id},${b.id}`);
    await page.locator('[data-testid="compare-row"][data-field="config.lr"]').waitFor();
    const fields = await page.getByTestId("compare-row").evaluateAll((els) => els.map((el) => el.dataset.field));
    for (const field of ["name", "config.lr", "config.layers", "config.dropout", "config.optimizer", "summary.best_acc"]) {
      assert.ok(fields.includes(field), `${field} differs`);
    }
    for (const field of ["config.batch_size", "state", "tags"]) assert.ok(!fields.includes(field), `${field} agrees`);
    const lrCells = await page.locator('[data-testid="compare-row"][data-field="config.lr"] td.value').allTextContents();
    assert.deepEqual(lrCells, ["0.01", "0.1"]);

    await page.getByTestId("differences-only").uncheck();
    await page.locator('[data-testid="compare-row"][data-field="config.batch_size"]').waitFor();
    assert.equal(
      await page.locator('[data-testid="compare-row"][data-field="config.batch_size"]').getAttribute("data-differs"),
      "false",
    );
    await page.close();
  });

  test("is reachable from the run page", async () => {
    const page = await signedInPage(browser, server);
    const [a, b] = [runs["run-0"], runs["run-1"]];
    await page.goto(runUrl(a.id));
    await page.getByTestId("compare-with").click();
    await page.locator(`[data-testid="compare-option"][data-run-id="${b.id}"] input`).check();
    await page.getByTestId("compare-go").click();
    await page.locator('[data-testid="compare-row"][data-field="config.lr"]').waitFor();
    assert.match(page.url(), new RegExp(`/compare\\?runs=${a.id},${b.id}$`));
    await page.close();
  });
});

describe("analysis", () => {
  test("scatter, parallel coordinates with brushing, and parameter importance", async () => {
    const page = await signedInPage(browser, server);
    const logged = ["run-0", "run-1", "run-2"].map((name) => runs[name].id);
    // The live run of the test above (if it ran) is hidden so three runs are analysed.
    const all = (await server.api("GET", `/projects/${ENTITY}/${PROJECT}/runs`)).runs.map((run) => run.id);
    const hidden = all.filter((id) => !logged.includes(id));
    const query = hidden.length ? `&hidden=${encodeURIComponent(JSON.stringify(hidden))}` : "";
    await page.goto(`${server.url}/projects/${ENTITY}/${PROJECT}?tab=analysis&an.x=config.lr&an.y=summary.best_acc${query}`);
    await page.getByTestId("scatter-point").first().waitFor();
    const points = await page.getByTestId("scatter-point").evaluateAll((els) => els.map((el) => el.dataset.runId));
    assert.deepEqual([...points].sort(), [...logged].sort());

    // Hovering a point names its run.
    await page.locator(`[data-testid="scatter-point"][data-run-id="${runs["run-1"].id}"]`).hover();
    assert.match(await page.getByTestId("scatter-tooltip").textContent(), /run-1/);

    const lines = page.getByTestId("parcoord-line");
    assert.equal(await lines.count(), 3);
    // Brush the top of the lr axis (log scale: 0.001, 0.01, 0.1): only lr = 0.1 stays active.
    const area = page.locator('[data-testid="parcoord-axis"][data-path="config.lr"] [data-testid="parcoord-brush-area"]');
    const box = await area.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.3, { steps: 5 });
    await page.mouse.up();
    await page.getByTestId("parcoord-brush").waitFor();
    const active = await page
      .locator('[data-testid="parcoord-line"][data-active="true"]')
      .evaluateAll((els) => els.map((el) => el.dataset.runId));
    assert.deepEqual(active, [runs["run-1"].id]);

    await page.getByTestId("importance-target").selectOption("summary.best_acc");
    await page.getByTestId("importance-row").first().waitFor({ timeout: 20_000 });
    const params = await page.getByTestId("importance-row").evaluateAll((els) => els.map((el) => el.dataset.param));
    assert.ok(params.includes("config.lr"), `importance rows: ${params}`);
    await page.close();
  });
});

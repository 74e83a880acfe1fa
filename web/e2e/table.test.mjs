// End to end: the sign-in page, the project list and the runs table against the real server
// (serving this checkout's web/dist: run `npm run build` first), with runs logged by the real
// Python SDK and headless Chromium.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { ENTITY, launchBrowser, python, pythonInBackground, signedInPage, startServer } from "./harness.mjs";

const PROJECT = "tbl";
// lr and optimizer per run, in the order they are created.
const RUNS = [
  [0.001, "adam"],
  [0.01, "adam"],
  [0.1, "sgd"],
  [0.03, "sgd"],
  [0.003, "adam"],
];

let server;
let browser;
/** Run id by run name (`run-0` ...). */
const ids = {};

before(async () => {
  server = await startServer();
  python(
    server,
    `
import heron
runs = ${JSON.stringify(RUNS)}
for i, (lr, opt) in enumerate(runs):
    run = heron.init(project=${JSON.stringify(PROJECT)}, name=f"run-{i}", config={"lr": lr, "optimizer": opt})
    for step in range(3):
        run.log({"loss": 1.0 / (i + 1) + step * 0.01})
    run.finish()
`,
  );
  const page = await server.api("GET", `/projects/${ENTITY}/${PROJECT}/runs`);
  for (const run of page.runs) ids[run.name] = run.id;
  assert.equal(Object.keys(ids).length, RUNS.length);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const projectUrl = (query = "") => `${server.url}/projects/${ENTITY}/${PROJECT}${query}`;

/** The run ids of the table's rows, top to bottom. */
async function rowIds(page) {
  return page.locator('[data-testid="run-row"]').evaluateAll((rows) => rows.map((row) => row.getAttribute("data-run-id")));
}

/** Waits until the table's rows are exactly `expected` (run ids, in order). */
async function expectRows(page, expected, message) {
  await page.waitForFunction(
    (want) =>
      JSON.stringify([...document.querySelectorAll('[data-testid="run-row"]')].map((row) => row.getAttribute("data-run-id"))) ===
      JSON.stringify(want),
    expected,
    { timeout: 10_000 },
  ).catch(async () => assert.deepEqual(await rowIds(page), expected, message));
}

const byLr = (names) => names.map((name) => ids[name]);
const lrOf = (i) => RUNS[i][0];
const namesSortedBy = (compare) =>
  RUNS.map((_, i) => i)
    .sort(compare)
    .map((i) => `run-${i}`);

test("sign in with an API key through the form", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/signin\?next=/);
  await page.getByTestId("signin-key").fill("heron_" + "0".repeat(40));
  await page.getByTestId("signin-submit").click();
  await page.getByTestId("signin-error").waitFor();
  await page.getByTestId("signin-key").fill(server.apiKey);
  await page.getByTestId("signin-submit").click();
  await page.waitForURL(`${server.url}/`);
  await page.locator(`[data-testid="project-row"][data-project="${ENTITY}/${PROJECT}"]`).waitFor();
  const cookies = await context.cookies();
  assert.ok(cookies.some((cookie) => cookie.name === "heron_key" && cookie.httpOnly));
  await context.close();
});

test("the one-time login link signs in and shows the projects", async () => {
  assert.ok(server.loginUrl, "the server printed a login link");
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.loginUrl);
  const row = page.locator(`[data-testid="project-row"][data-project="${ENTITY}/${PROJECT}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`${PROJECT}\\s+.*${RUNS.length}`));
  await row.getByRole("link", { name: PROJECT }).click();
  await page.waitForURL(projectUrl());
  await page.locator('[data-testid="run-row"]').first().waitFor();
  await context.close();
});

test("set a password under Account, then sign in with user and password", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(`${server.url}/`);
  await page.getByTestId("new-password").fill("short");
  await page.getByTestId("repeat-password").fill("short");
  await page.getByTestId("set-password").getByRole("button", { name: "Set password" }).click();
  const message = page.getByTestId("password-message");
  await message.waitFor();
  assert.match(await message.getAttribute("class"), /error/, "the server refuses a short password");
  await page.getByTestId("new-password").fill("correct horse battery");
  await page.getByTestId("repeat-password").fill("correct horse battery");
  await page.getByTestId("set-password").getByRole("button", { name: "Set password" }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="password-message"]')?.className === "ok");
  await page.context().close();

  const context = await browser.newContext();
  const fresh = await context.newPage();
  await fresh.goto(`${server.url}/signin?next=${encodeURIComponent(`/projects/${ENTITY}/${PROJECT}?tab=table`)}`);
  await fresh.getByTestId("signin-mode-password").click();
  await fresh.getByTestId("signin-user").fill(ENTITY);
  await fresh.getByTestId("signin-password").fill("wrong password");
  await fresh.getByTestId("signin-submit").click();
  await fresh.getByTestId("signin-error").waitFor();
  await fresh.getByTestId("signin-password").fill("correct horse battery");
  await fresh.getByTestId("signin-submit").click();
  await fresh.waitForURL(projectUrl("?tab=table"));
  await fresh.locator('[data-testid="run-row"]').first().waitFor();
  await context.close();
});

test("a server without runs tells how to log the first one", async () => {
  const empty = await startServer();
  try {
    const page = await signedInPage(browser, empty);
    await page.goto(`${empty.url}/`);
    const note = page.getByTestId("projects-empty");
    await note.waitFor();
    assert.match(await note.innerText(), /heron\.init\(project='quickstart'\)/);
    await page.context().close();
  } finally {
    await empty.stop();
  }
});

test("columns: show one from the manager, move it, pin it; edit a run colour", async () => {
  const page = await signedInPage(browser, server, { width: 700, height: 700 });
  await page.goto(projectUrl("?tab=table"));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  await page.getByTestId("open-columns").click();
  await page.getByTestId("column-search").fill("history_rows");
  await page.getByTestId("column-manager").getByText("history_rows", { exact: true }).click();
  await page.getByTestId("col-history_rows").waitFor();
  // Up to the front, then pinned.
  const shown = page.getByTestId("shown-history_rows");
  while ((await page.getByTestId("column-manager").locator("li[data-testid^=shown-]").first().getAttribute("data-testid")) !== "shown-history_rows") {
    await shown.getByTitle("Move left").click();
  }
  await shown.getByRole("checkbox").check();
  const layout = JSON.parse(new URL(page.url()).searchParams.get("cols"));
  assert.equal(layout.show[0], "history_rows");
  assert.ok(layout.pin.includes("history_rows"));
  await page.keyboard.press("Escape");
  const headers = await page.locator('.rt-head [data-testid^="col-"]').evaluateAll((cells) => cells.map((cell) => cell.dataset.testid));
  assert.deepEqual(headers.slice(0, 2), ["col-history_rows", "col-name"], "pinned columns first, in layout order");
  // Pinned columns stay in place when the table scrolls sideways; the others move.
  const before = await page.getByTestId("col-history_rows").boundingBox();
  const stateBefore = await page.getByTestId("col-state").boundingBox();
  const scrolled = await page.locator(".rt-scroll").evaluate((element) => {
    element.scrollLeft = 400;
    return element.scrollLeft;
  });
  assert.ok(scrolled > 100, `the table scrolls sideways (${scrolled} px)`);
  await page.waitForTimeout(100);
  const afterScroll = await page.getByTestId("col-history_rows").boundingBox();
  assert.equal(Math.round(afterScroll.x), Math.round(before.x));
  const stateAfter = await page.getByTestId("col-state").boundingBox();
  assert.equal(Math.round(stateAfter.x), Math.round(stateBefore.x - scrolled));

  // Dragging a header's edge sets the column's width (kept in the URL).
  await page.locator(".rt-scroll").evaluate((element) => (element.scrollLeft = 0));
  const handle = await page.getByTestId("resize-state").boundingBox();
  const width = (await page.getByTestId("col-state").boundingBox()).width;
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + 80, handle.y + handle.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => JSON.parse(new URL(location.href).searchParams.get("cols")).widths?.state > 0);
  const widened = (await page.getByTestId("col-state").boundingBox()).width;
  assert.ok(Math.abs(widened - width - 80) <= 4, `width ${width} -> ${widened}`);
  assert.equal(new URL(page.url()).searchParams.get("sort"), null, "resizing does not sort");

  // Dragging a header onto another moves it there.
  const small = { show: ["name", "state", "config.lr"], pin: ["name"] };
  await page.goto(projectUrl(`?tab=table&cols=${encodeURIComponent(JSON.stringify(small))}`));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  await page.getByTestId("col-config.lr").dragTo(page.getByTestId("col-state"));
  await page.waitForFunction(() => JSON.parse(new URL(location.href).searchParams.get("cols")).show[1] === "config.lr");
  assert.deepEqual(JSON.parse(new URL(page.url()).searchParams.get("cols")).show, ["name", "config.lr", "state"]);

  const row = page.locator('[data-testid="run-row"]').first();
  await row.getByTestId("run-color").fill("#123456");
  assert.equal(await row.locator(".rt-swatch").evaluate((swatch) => getComputedStyle(swatch).backgroundColor), "rgb(18, 52, 86)");
  await page.context().close();
});

test("filter: matching rows only, and an inline error for a bad filter", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(projectUrl("?tab=table"));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  const input = page.getByTestId("filter-input");
  await input.fill("config.lr > 0.01");
  await input.press("Enter");
  const expected = RUNS.map((_, i) => i)
    .filter((i) => lrOf(i) > 0.01)
    .map((i) => `run-${i}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="run-row"]').length === n, expected.length);
  assert.deepEqual(new Set(await rowIds(page)), new Set(byLr(expected)));
  assert.match(page.url(), /filter=config\.lr/);

  await input.fill("config.lr >");
  await input.press("Enter");
  const error = page.getByTestId("filter-error");
  await error.waitFor();
  assert.match(await error.innerText(), /expected a value/);
  assert.equal(await error.locator("mark").count(), 1, "the error marks its column");

  // The builder writes the same language.
  await page.getByTestId("open-builder").click();
  await page.getByTestId("builder-field").fill("config.optimizer");
  await page.getByTestId("builder-value").fill("sgd");
  assert.equal(await page.getByTestId("builder-preview").innerText(), 'config.optimizer = "sgd"');
  await page.getByTestId("builder-apply").click();
  assert.equal(await input.inputValue(), 'config.optimizer = "sgd"');
  await page.waitForFunction(() => !document.querySelector('[data-testid="filter-error"]'));
  const sgd = RUNS.map((_, i) => i)
    .filter((i) => RUNS[i][1] === "sgd")
    .map((i) => `run-${i}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="run-row"]').length === n, sgd.length);
  assert.deepEqual(new Set(await rowIds(page)), new Set(byLr(sgd)));

  // Autocomplete offers field paths while typing.
  await input.fill("");
  await input.type("config.op");
  const suggestion = page.getByTestId("filter-suggestions").getByText("config.optimizer", { exact: true });
  await suggestion.waitFor();
  await input.press("Tab");
  assert.equal(await input.inputValue(), "config.optimizer ");
  await page.getByTestId("filter-suggestions").getByText("=", { exact: true }).click();
  assert.equal(await input.inputValue(), "config.optimizer = ");
  // Values come from the runs the table holds (here the sgd ones the builder selected).
  await page.getByTestId("filter-suggestions").getByText('"sgd"', { exact: true }).click();
  assert.equal(await input.inputValue(), 'config.optimizer = "sgd" ');
  await input.type("and config.lr < 0.05");
  assert.equal(await input.inputValue(), 'config.optimizer = "sgd" and config.lr < 0.05');
  await input.press("Enter");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("filter")?.endsWith("0.05"));
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="run-row"]').length === n,
    RUNS.filter(([lr, optimizer]) => optimizer === "sgd" && lr < 0.05).length,
  );
  await page.context().close();
});

test("sort by clicking headers, shift-click for a second key", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(projectUrl("?tab=table"));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  const header = page.getByTestId("col-config.lr");
  await header.click();
  await expectRows(page, byLr(namesSortedBy((a, b) => lrOf(a) - lrOf(b))), "ascending lr");
  assert.equal(new URL(page.url()).searchParams.get("sort"), "config.lr");
  await header.click();
  await expectRows(page, byLr(namesSortedBy((a, b) => lrOf(b) - lrOf(a))), "descending lr");

  // optimizer ascending, then lr descending within it.
  await page.getByTestId("col-config.optimizer").click();
  await header.click({ modifiers: ["Shift"] });
  await header.click({ modifiers: ["Shift"] });
  assert.equal(new URL(page.url()).searchParams.get("sort"), "config.optimizer, config.lr desc");
  await expectRows(
    page,
    byLr(namesSortedBy((a, b) => RUNS[a][1].localeCompare(RUNS[b][1]) || lrOf(b) - lrOf(a))),
    "optimizer, then lr descending",
  );

  // The metrics' history statistics sort on the server.
  await page.goto(projectUrl("?tab=table&sort=" + encodeURIComponent("metrics.loss.min desc")));
  await expectRows(page, byLr(namesSortedBy((a, b) => a - b)), "the smallest loss minimum last");
  await page.context().close();
});

test("metric columns show a key's min and max over its whole history", async () => {
  const page = await signedInPage(browser, server);
  const cols = { show: ["name", "metrics.loss.min", "metrics.loss.max"], pin: [] };
  await page.goto(projectUrl("?tab=table&sort=name&cols=" + encodeURIComponent(JSON.stringify(cols))));
  const row = page.locator(`[data-testid="run-row"][data-run-id="${ids["run-1"]}"]`);
  // run-1 logged 0.5, 0.51, 0.52.
  await row.locator('[data-path="metrics.loss.min"]').filter({ hasText: "0.5" }).waitFor({ timeout: 10_000 });
  assert.equal(await row.locator('[data-path="metrics.loss.max"]').textContent(), "0.52");
  await page.context().close();
});

test("group by a config key: group headers with counts", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(projectUrl("?tab=table"));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  await page.getByTestId("open-group").click();
  await page.getByTestId("group-field").selectOption("config.optimizer");
  await page.getByTestId("group-add").click();
  const groups = page.locator('[data-testid="group-row"]');
  await groups.nth(1).waitFor();
  assert.equal(await groups.count(), 2);
  const counts = {};
  for (const group of await groups.all()) {
    const text = await group.innerText();
    counts[/adam|sgd/.exec(text)[0]] = Number(await group.getByTestId("group-count").innerText());
  }
  assert.deepEqual(counts, { adam: 3, sgd: 2 });
  // Collapsing a group hides its rows.
  await page.keyboard.press("Escape");
  await groups.first().click();
  const firstCount = Number(await groups.first().getByTestId("group-count").innerText());
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="run-row"]').length === n,
    RUNS.length - firstCount,
  );
  await page.context().close();
});

test("visibility toggles and show all / hide all / first 10", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(projectUrl("?tab=table"));
  const rows = page.locator('[data-testid="run-row"]');
  await rows.nth(RUNS.length - 1).waitFor();
  const first = rows.first();
  const id = await first.getAttribute("data-run-id");
  await first.getByTestId("run-visibility").click();
  await page.waitForFunction(() => new URL(location.href).searchParams.has("hidden"));
  assert.deepEqual(JSON.parse(new URL(page.url()).searchParams.get("hidden")), [id]);
  assert.equal(await first.getByTestId("run-visibility").getAttribute("aria-pressed"), "false");

  await page.getByTestId("visibility-menu").click();
  await page.getByTestId("hide-all").click();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="run-visibility"][aria-pressed="false"]').length === n,
    RUNS.length,
  );
  await page.getByTestId("visibility-menu").click();
  await page.getByTestId("show-all").click();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has("hidden"));
  assert.equal(await page.locator('[data-testid="run-visibility"][aria-pressed="false"]').count(), 0);

  // The workspace's side panel shares the same state.
  await first.getByTestId("run-visibility").click();
  await page.goto(page.url().replace("tab=table", "tab=workspace"));
  const side = page.locator('.runs-table.compact [data-testid="run-row"]');
  await side.nth(RUNS.length - 1).waitFor();
  assert.equal(await page.locator(`.runs-table.compact [data-run-id="${id}"] [data-testid="run-visibility"]`).getAttribute("aria-pressed"), "false");
  await page.context().close();
});

test("export CSV of the table as shown", async () => {
  const page = await signedInPage(browser, server);
  const cols = { show: ["name", "config.optimizer", "config.lr", "summary.loss"], pin: ["name"] };
  await page.goto(projectUrl(`?tab=table&sort=config.lr&cols=${encodeURIComponent(JSON.stringify(cols))}`));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  assert.match(download.suggestedFilename(), /\.csv$/);
  const text = readFileSync(await download.path(), "utf8");
  const lines = text.trimEnd().split("\r\n");
  assert.equal(lines[0], "name,config.optimizer,config.lr,summary.loss");
  const expected = namesSortedBy((a, b) => lrOf(a) - lrOf(b)).map((name) => {
    const i = Number(name.slice(4));
    return `${name},${RUNS[i][1]},${RUNS[i][0]},${1.0 / (i + 1) + 2 * 0.01}`;
  });
  assert.deepEqual(lines.slice(1), expected);
  await page.context().close();
});

test("a run's state follows the server without a reload", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(projectUrl("?tab=table"));
  await page.locator('[data-testid="run-row"]').nth(RUNS.length - 1).waitFor();
  const child = pythonInBackground(
    server,
    `
import sys, heron
run = heron.init(project=${JSON.stringify(PROJECT)}, name="live", config={"lr": 0.5, "optimizer": "adam"})
run.log({"loss": 0.1})
print(run.id, flush=True)
sys.stdin.readline()
run.finish()
`,
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const runId = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("exit", (code) => reject(new Error(`python exited ${code}`)));
  });
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await row.waitFor({ timeout: 15_000 });
  await page.waitForFunction((id) => document.querySelector(`[data-run-id="${id}"]`)?.getAttribute("data-state") === "running", runId);
  child.stdin.write("\n");
  await exited;
  await page.waitForFunction(
    (id) => document.querySelector(`[data-run-id="${id}"]`)?.getAttribute("data-state") === "finished",
    runId,
    { timeout: 15_000 },
  );
  await page.context().close();
});

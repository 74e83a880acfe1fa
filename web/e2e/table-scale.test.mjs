// The runs table with 10,000 runs (created through the HTTP API, which is quicker than the
// SDK for this many): only the rows in view are in the page, and scrolling reaches the last.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ENTITY, launchBrowser, signedInPage, startServer } from "./harness.mjs";

const N = 10_000;
let server;
let browser;

before(async () => {
  server = await startServer();
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      await server.api("POST", `/projects/${ENTITY}/scale/runs`, {
        id: `r${String(i).padStart(5, "0")}`,
        name: `run-${i}`,
        config: { lr: (i % 97) / 1000, layers: i % 7 },
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("10k runs: virtualised rows, smooth scrolling to the last run", async () => {
  const page = await signedInPage(browser, server);
  await page.goto(`${server.url}/projects/${ENTITY}/scale?tab=table&sort=id`);
  await page.locator('[data-testid="run-row"]').first().waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId("run-count").innerText(), /^10000 runs/);
  assert.ok((await page.locator('[data-testid="run-row"]').count()) < 200, "only the rows in view are rendered");
  const frames = await page.evaluate(async () => {
    const scroller = document.querySelector(".rt-scroll");
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 60; i++) {
      scroller.scrollTop += 900;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times.sort((a, b) => a - b)[30];
  });
  assert.ok(frames < 50, `median scroll frame ${frames} ms`);
  await page.evaluate(() => {
    const scroller = document.querySelector(".rt-scroll");
    scroller.scrollTop = scroller.scrollHeight;
  });
  await page.locator(`[data-testid="run-row"][data-run-id="r${String(N - 1).padStart(5, "0")}"]`).waitFor();
  assert.ok((await page.locator('[data-testid="run-row"]').count()) < 200);
  await page.context().close();
});

// End-to-end: artifacts, lineage and the model registry on the real server, in headless
// Chromium. Versions are logged through the HTTP API itself (blobs/missing, the signed part
// upload, POST versions), as the SDKs do; runs are made over the API too.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { ENTITY, launchBrowser, signedInPage, startServer } from "./harness.mjs";

const PROJECT = "e2e-artifacts";
const ARTIFACT = "training-data";
const MODEL = "classifier";

/** A solid-colour 8×8 PNG (RGB), so that the preview shows something to look at. */
function solidPng(red, green, blue) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])));
    return Buffer.concat([length, Buffer.from(type), data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(8, 0);
  header.writeUInt32BE(8, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, no interlace
  const row = Buffer.from([0, ...Array.from({ length: 8 }, () => [red, green, blue]).flat()]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: 8 }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PNG = solidPng(36, 99, 235);
const CSV = "epoch,loss,note\n" + Array.from({ length: 150 }, (_, i) => `${i},${(1 / (i + 1)).toFixed(4)},"row ${i}, quoted"`).join("\n") + "\n";
const V0_FILES = {
  "notes/readme.txt": Buffer.from("first cut of the training data\nsecond line\n"),
  "images/plot.png": PNG,
  "data/table.csv": Buffer.from(CSV),
};
// v1 changes the text and keeps the image and the table (their blobs are stored once).
const V1_FILES = { ...V0_FILES, "notes/readme.txt": Buffer.from("second cut: cleaned labels\n") };

let server;
let browser;

/** Saves a screenshot when HERON_E2E_SCREENSHOTS names a folder (for looking at the pages). */
async function screenshot(page, name) {
  const folder = process.env.HERON_E2E_SCREENSHOTS;
  if (folder) await page.screenshot({ path: `${folder}/${name}.png`, fullPage: true });
}

const artifactRoute = `/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}`;
const pageUrl = (path) => `${server.url}${path}`;

/** A relative URL the server handed out, made absolute (it may or may not carry `/api/v1`). */
function absolute(url) {
  return url.startsWith("/api/") ? `${server.url}${url}` : `${server.url}/api/v1${url.startsWith("/") ? "" : "/"}${url}`;
}

/** Logs a version as a client does: ask which blobs are missing, upload those, post the manifest. */
async function logVersion(files, extra) {
  const manifest = Object.entries(files).map(([path, bytes]) => ({
    path,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  }));
  const check = await server.api("POST", `/projects/${ENTITY}/${PROJECT}/blobs/missing`, {
    blobs: manifest.map(({ sha256, size }) => ({ sha256, size })),
  });
  for (const upload of check.missing) {
    assert.equal(upload.parts, 1, "test files fit one part");
    const entry = manifest.find((m) => m.sha256 === upload.sha256);
    const response = await fetch(`${absolute(upload.upload_url)}&part=0`, { method: "PUT", body: files[entry.path] });
    assert.equal(response.status, 200, `upload of ${entry.path}: ${await response.text()}`);
  }
  return server.api("POST", `${artifactRoute}/versions`, { type: "dataset", files: manifest, ...extra });
}

before(async () => {
  server = await startServer();
  await server.api("POST", `/entities/${ENTITY}/projects`, { name: PROJECT, description: "artifacts e2e" });
  for (const id of ["producer", "consumer"]) {
    await server.api("POST", `/projects/${ENTITY}/${PROJECT}/runs`, { id, name: id });
    await server.api("PATCH", `/projects/${ENTITY}/${PROJECT}/runs/${id}`, { state: "finished", exit_code: 0 });
  }
  const v0 = await logVersion(V0_FILES, {
    description: "First cut",
    metadata: { rows: 150, source: { split: "train" } },
    aliases: ["candidate"],
    run: "producer",
  });
  assert.equal(v0.version, "v0");
  const v1 = await logVersion(V1_FILES, { description: "Cleaned labels", metadata: { rows: 150 }, aliases: ["best"], run: "producer" });
  assert.equal(v1.version, "v1");
  await server.api("POST", `${artifactRoute}/versions/v1/uses`, { run: "consumer" });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("artifact browser", () => {
  test("the Artifacts tab lists the artifact under its type", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}?tab=artifacts`));
    const row = page.locator(`[data-testid="artifact-type"][data-type="dataset"] [data-testid="artifact-row"][data-name="${ARTIFACT}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /training-data\s*2\s*v1/);
    await row.getByRole("link", { name: ARTIFACT }).click();
    await page.getByTestId("version-view").waitFor();
    assert.equal(new URL(page.url()).pathname, `/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}`);
    await page.close();
  });

  test("the artifact page shows versions with their aliases and producing run", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}`));
    const rows = page.getByTestId("version-row");
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((el) => el.dataset.version)), ["v1", "v0"]);
    const aliasesOf = (version) =>
      page.locator(`[data-testid="version-row"][data-version="${version}"] [data-testid="alias"]`).evaluateAll((els) => els.map((el) => el.dataset.alias).sort());
    assert.deepEqual(await aliasesOf("v1"), ["best", "latest"]);
    assert.deepEqual(await aliasesOf("v0"), ["candidate"]);
    assert.match(await page.locator('[data-testid="version-row"][data-version="v0"]').textContent(), /producer/);
    // Without a version in the URL the page shows `latest`.
    assert.equal(await page.getByTestId("version-view").getAttribute("data-version"), "v1");
    assert.equal((await page.getByTestId("version-description").textContent()).trim(), "Cleaned labels");
    assert.match(await page.getByTestId("version-digest").textContent(), /^[0-9a-f]{64}$/);

    // Selecting v0 shows its overview, metadata included.
    await page.locator('[data-testid="version-row"][data-version="v0"]').click();
    await page.locator('[data-testid="version-view"][data-version="v0"]').waitFor();
    assert.equal(new URL(page.url()).pathname, `/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}/v0`);
    const split = page.locator('[data-testid="version-metadata"] [data-path="source.split"] .kv-value');
    assert.equal((await split.textContent()).trim(), "train");

    // An alias added on the overview shows in the versions list and is stored.
    await page.getByTestId("artifact-alias-input").fill("reviewed");
    await page.getByTestId("artifact-alias-input").press("Enter");
    await page.locator('[data-testid="version-row"][data-version="v0"] [data-alias="reviewed"]').waitFor();
    assert.deepEqual((await server.api("GET", `${artifactRoute}/versions/reviewed`)).version, "v0");
    await page.close();
  });

  test("files preview as text, table and image", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}/v1?tab=files`));
    await page.getByTestId("artifact-files").waitFor();
    assert.equal(await page.getByTestId("artifact-file").count(), 3);

    await page.locator('[data-testid="artifact-file"][data-path="notes/readme.txt"] [data-testid="file-open"]').click();
    await page.getByTestId("preview-text").waitFor();
    assert.equal(await page.getByTestId("preview-text").textContent(), "second cut: cleaned labels\n");
    assert.equal(new URL(page.url()).searchParams.get("file"), "notes/readme.txt");

    await page.locator('[data-testid="artifact-file"][data-path="data/table.csv"] [data-testid="file-open"]').click();
    const table = page.getByTestId("preview-table");
    await table.waitFor();
    assert.deepEqual(await table.locator("thead th").evaluateAll((els) => els.map((el) => el.textContent)), ["", "epoch", "loss", "note"]);
    // The first 100 of 150 rows, a quoted comma kept in its cell.
    assert.equal(await table.locator("tbody tr").count(), 100);
    assert.equal(await table.locator("tbody tr").first().locator("td").nth(3).textContent(), "row 0, quoted");
    assert.match(await page.getByTestId("preview-table-note").textContent(), /^The first 100 rows; the file has more\.$/);
    await screenshot(page, "artifact-csv");

    await page.locator('[data-testid="artifact-file"][data-path="images/plot.png"] [data-testid="file-open"]').click();
    const image = page.getByTestId("preview-image");
    await image.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="preview-image"]');
      return img && img.complete && img.naturalWidth > 0;
    });
    assert.deepEqual(await image.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [8, 8]);
    const pixel = await image.evaluate((img) => {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 8;
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      return [...context.getImageData(4, 4, 1, 1).data];
    });
    assert.deepEqual(pixel, [36, 99, 235, 255]);
    await screenshot(page, "artifact-files");

    // The download link is the signed URL and answers the bytes without the cookie's help.
    const href = await page.locator('[data-testid="artifact-file"][data-path="images/plot.png"] [data-testid="file-download"]').getAttribute("href");
    const bytes = Buffer.from(await (await fetch(`${server.url}${href}`)).arrayBuffer());
    assert.deepEqual(bytes, PNG);
    await page.close();
  });

  test("used by lists the consuming and the producing run", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}/v1?tab=used`));
    await page.getByTestId("used-by-runs").waitFor();
    assert.deepEqual(await page.locator('[data-testid="used-by-runs"] [data-testid="run-row"]').evaluateAll((els) => els.map((el) => el.dataset.run)), ["consumer"]);
    assert.deepEqual(await page.locator('[data-testid="producing-runs"] [data-testid="run-row"]').evaluateAll((els) => els.map((el) => el.dataset.run)), ["producer"]);
    await page.close();
  });

  test("lineage shows both runs and the version, and a click opens a run", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}/v1?tab=lineage`));
    const graph = page.getByTestId("lineage-graph");
    await graph.waitFor();
    const ids = await graph.locator('[data-testid="lineage-node"]').evaluateAll((els) => els.map((el) => el.dataset.nodeId));
    const version = `artifact:${ENTITY}/${PROJECT}/${ARTIFACT}:v1`;
    const producer = `run:${ENTITY}/${PROJECT}/producer`;
    const consumer = `run:${ENTITY}/${PROJECT}/consumer`;
    for (const id of [version, producer, consumer]) assert.ok(ids.includes(id), `${id} in ${ids}`);
    assert.equal(await graph.locator(`[data-node-id="${version}"]`).getAttribute("data-selected"), "true");
    // Left to right: producer, then the version, then the consumer.
    const x = async (id) => (await graph.locator(`[data-node-id="${id}"]`).boundingBox()).x;
    assert.ok((await x(producer)) < (await x(version)));
    assert.ok((await x(version)) < (await x(consumer)));
    assert.ok((await graph.getByTestId("lineage-edge").count()) >= 2);
    await screenshot(page, "artifact-lineage");

    // "What it came from" keeps the producer and drops the consumer; the choice is in the URL.
    await page.getByTestId("lineage-direction").selectOption("up");
    await graph.locator(`[data-node-id="${consumer}"]`).waitFor({ state: "detached" });
    assert.equal(await graph.locator(`[data-node-id="${producer}"]`).count(), 1);
    assert.equal(new URL(page.url()).searchParams.get("direction"), "up");
    await page.getByTestId("lineage-direction").selectOption("both");

    await graph.locator(`[data-node-id="${consumer}"]`).click();
    await page.getByTestId("run-page").waitFor();
    assert.equal(new URL(page.url()).pathname, `/projects/${ENTITY}/${PROJECT}/runs/consumer`);
    // The run page's Artifacts tab: what it used, and its lineage with itself selected.
    await page.locator(`[data-testid="run-used"] [data-testid="run-artifact"][data-ref="${ARTIFACT}:v1"]`).waitFor();
    assert.equal(await page.locator('[data-testid="run-produced"] [data-testid="run-artifact"]').count(), 0);
    await page.locator(`[data-testid="lineage-node"][data-node-id="${consumer}"][data-selected="true"]`).waitFor();
    await screenshot(page, "run-artifacts");
    await page.close();
  });

  test("the storage tab counts shared files once", async () => {
    const page = await signedInPage(browser, server);
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}?tab=storage`));
    const row = page.locator(`[data-testid="storage-row"][data-name="${ARTIFACT}"]`);
    await row.waitFor();
    const report = await server.api("GET", `/projects/${ENTITY}/${PROJECT}/storage`);
    const mine = report.artifacts.find((a) => a.name === ARTIFACT);
    assert.ok(mine.stored_bytes < mine.logical_bytes, "v1 shares two files with v0");
    assert.match(await row.textContent(), /dataset\s*2/);
    await screenshot(page, "storage");
    await page.close();
  });
});

describe("model registry", () => {
  test("link versions, move an alias in the UI, and read the audit trail", async () => {
    await server.api("POST", `/entities/${ENTITY}/models`, { name: MODEL, description: "e2e model" });
    await server.api("POST", `/entities/${ENTITY}/models/${MODEL}/versions`, { artifact: `${PROJECT}/${ARTIFACT}:v0`, aliases: ["production"] });

    const page = await signedInPage(browser, server);
    page.on("dialog", (dialog) => dialog.accept());
    // Link v1 from the version's own page.
    await page.goto(pageUrl(`/projects/${ENTITY}/${PROJECT}/artifacts/${ARTIFACT}/v1`));
    await page.getByTestId("link-model").fill(MODEL);
    await page.getByTestId("link-aliases").fill("staging");
    await page.getByTestId("link-submit").click();
    assert.match(await page.getByTestId("link-message").textContent(), /Linked as classifier:v1/);

    // The projects page links the registry, which lists the model.
    await page.goto(pageUrl("/"));
    await page.getByTestId("registry-link").first().click();
    await page.locator(`[data-testid="model-row"][data-model="${MODEL}"]`).getByRole("link", { name: MODEL }).click();
    await page.getByTestId("model-versions").waitFor();
    assert.equal(new URL(page.url()).pathname, `/${ENTITY}/registry/${MODEL}`);
    const aliasesOf = (version) =>
      page.locator(`[data-testid="model-version"][data-version="${version}"] [data-testid="alias"]`).evaluateAll((els) => els.map((el) => el.dataset.alias));
    assert.deepEqual(await aliasesOf("v0"), ["production"]);
    assert.deepEqual(await aliasesOf("v1"), ["staging"]);
    assert.match(await page.locator('[data-testid="model-version"][data-version="v1"] [data-testid="model-artifact"]').textContent(), /training-data:v1/);

    // Move production from v0 to v1.
    await page.getByTestId("alias-name").fill("production");
    await page.getByTestId("alias-version").selectOption("v1");
    assert.equal((await page.getByTestId("alias-submit").textContent()).trim(), "Move");
    await page.getByTestId("alias-submit").click();
    await page.locator('[data-testid="model-version"][data-version="v1"] [data-alias="production"]').waitFor();
    assert.deepEqual(await aliasesOf("v0"), []);

    // The audit trail, newest first: the move, with the version it left.
    const newest = page.getByTestId("audit-row").first();
    await page.locator('[data-testid="audit-row"][data-action="alias_set"]').first().waitFor();
    assert.equal(await newest.getAttribute("data-action"), "alias_set");
    assert.equal(await newest.getByTestId("audit-alias").textContent(), "production");
    assert.equal(await newest.getByTestId("audit-version").textContent(), "v1");
    assert.equal(await newest.getByTestId("audit-previous").textContent(), "v0");
    const actions = await page.getByTestId("audit-row").evaluateAll((els) => els.map((el) => el.dataset.action));
    assert.ok(actions.includes("create") && actions.filter((a) => a === "link").length === 2, `audit actions: ${actions}`);
    const stored = await server.api("GET", `/entities/${ENTITY}/models/${MODEL}/audit`);
    assert.equal(stored.at(-1).action, "alias_set");

    // Unlink v0 (the confirmation is accepted above).
    await page.locator('[data-testid="model-version"][data-version="v0"] [data-testid="unlink"]').click();
    await page.locator('[data-testid="model-version"][data-version="v0"]').waitFor({ state: "detached" });
    await page.locator('[data-testid="audit-row"][data-action="unlink"]').waitFor();
    await screenshot(page, "model");
    await page.close();
  });
});

describe("deleting a version", () => {
  test("a version is deleted after a confirmation; one linked in the registry is refused with the reason", async () => {
    const route = `/projects/${ENTITY}/${PROJECT}/artifacts/scratch`;
    const manifest = (text) => {
      const bytes = Buffer.from(text);
      return { bytes, entry: { path: "note.txt", size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") } };
    };
    for (const text of ["scratch one\n", "scratch two\n"]) {
      const { bytes, entry } = manifest(text);
      const check = await server.api("POST", `/projects/${ENTITY}/${PROJECT}/blobs/missing`, { blobs: [{ sha256: entry.sha256, size: entry.size }] });
      for (const upload of check.missing) await fetch(`${absolute(upload.upload_url)}&part=0`, { method: "PUT", body: bytes });
      await server.api("POST", `${route}/versions`, { type: "scratch", files: [entry] });
    }
    await server.api("POST", `/entities/${ENTITY}/models`, { name: "scratch-model" });
    await server.api("POST", `/entities/${ENTITY}/models/scratch-model/versions`, { artifact: `${PROJECT}/scratch:v0` });

    const page = await signedInPage(browser, server);
    page.on("dialog", (dialog) => dialog.accept());
    await page.goto(pageUrl(`${route}/v1`));
    await page.getByTestId("delete-version").click();
    // Back on the artifact, whose latest is v0 again.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="version-row"]').length === 1);
    await page.locator('[data-testid="version-view"][data-version="v0"]').waitFor();
    const listed = await server.api("GET", `${route}/versions`);
    assert.deepEqual(listed.map((v) => [v.version, v.aliases]), [["v0", ["latest"]]]);

    // v0 is linked in the registry: the server refuses, and the page says why.
    await page.getByTestId("delete-version").click();
    const error = page.getByTestId("delete-version-error");
    await error.waitFor();
    assert.match(await error.textContent(), /linked in the model registry/);
    assert.equal((await server.api("GET", `${route}/versions`)).length, 1);
    await page.close();
  });
});

describe("the API client", () => {
  // The dashboard's types for these answers (web/src/api.ts) name the same fields as the
  // server's OpenAPI schemas, so a renamed or added field fails here rather than in a page.
  const SCHEMAS = [
    "Artifact",
    "ArtifactVersion",
    "ArtifactFile",
    "LineageNode",
    "LineageEdge",
    "Lineage",
    "RunArtifacts",
    "ArtifactStorage",
    "StorageReport",
    "RegisteredModel",
    "ModelVersion",
    "AuditEntry",
  ];

  /** The field names of `export interface NAME { ... }` in api.ts. */
  function interfaceFields(source, name) {
    const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(source);
    assert.ok(body, `interface ${name} in api.ts`);
    return [...body[1].matchAll(/^  (\w+)\??:/gm)].map((m) => m[1]).sort();
  }

  test("api.ts types match the OpenAPI schemas of artifacts and the registry", async () => {
    const source = readFileSync(new URL("../src/api.ts", import.meta.url), "utf8");
    const openapi = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    const schemas = openapi.components?.schemas ?? {};
    for (const name of SCHEMAS) {
      assert.ok(schemas[name], `OpenAPI schema ${name}`);
      assert.deepEqual(interfaceFields(source, name), Object.keys(schemas[name].properties ?? {}).sort(), `fields of ${name}`);
    }
  });
});

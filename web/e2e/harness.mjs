// Real parts for the dashboard's end-to-end tests: the `heron` server binary on port 0 with
// its own data folder (serving the built dashboard), runs logged by the real Python SDK, and
// headless Debian Chromium driven by playwright-core.
//
// Environment: HERON_TEST_SERVER_BIN (default ../target/debug/heron), HERON_TEST_PYTHON
// (default ../.venv/bin/python, with the `heron` package installed), CHROMIUM (default
// /usr/bin/chromium).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const API_KEY = "heron_" + "0123456789abcdef".repeat(2) + "01234567";
export const ENTITY = "admin";

const LISTENING = /^heron server listening on (http:\/\/127\.0\.0\.1:(\d+)) /m;
const LOGIN = /(http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+)/;

/** Starts `heron server --port 0` on a fresh data folder; resolves once it listens. */
export async function startServer() {
  const root = mkdtempSync(path.join(tmpdir(), "heron-e2e-"));
  const bin = process.env.HERON_TEST_SERVER_BIN || path.join(REPO, "target/debug/heron");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HERON_")));
  Object.assign(env, {
    HERON_BOOTSTRAP_API_KEY: API_KEY,
    HERON_LOG: "warn",
    XDG_CONFIG_HOME: path.join(root, "config"),
    XDG_DATA_HOME: path.join(root, "share"),
  });
  // The dashboard as built in this checkout (`npm run build`), whatever the binary carries.
  const args = ["server", "--host", "127.0.0.1", "--port", "0", "--data", path.join(root, "data")];
  args.push("--web-dir", path.join(REPO, "web/dist"));
  const child = spawn(bin, args, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`heron server did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const found = LISTENING.exec(stdout);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`heron server exited with ${code}: ${stderr}`));
    });
  });
  const login = LOGIN.exec(stdout);
  return {
    url,
    root,
    apiKey: API_KEY,
    /** The one-time browser login link printed at first start. */
    loginUrl: login ? login[1] : null,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
    /** Calls the HTTP API with the admin key; resolves to the parsed JSON body. */
    async api(method, route, body) {
      const response = await fetch(`${url}/api/v1${route}`, {
        method,
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
  };
}

function pythonBin() {
  return process.env.HERON_TEST_PYTHON || path.join(REPO, ".venv/bin/python");
}

/** The SDK's environment for a script logging to `server` (run folders in its temp root). */
function sdkEnv(server, extraEnv) {
  return {
    ...process.env,
    HERON_BASE_URL: server.url,
    HERON_API_KEY: server.apiKey,
    HERON_DIR: path.join(server.root, "runs"),
    HERON_SYSTEM_INTERVAL: "0",
    HERON_GIT: "false",
    ...extraEnv,
  };
}

/**
 * Runs Python code with the real `heron` SDK pointed at `server` (synchronously: it returns
 * when the script has finished and its runs are uploaded). Throws with stderr on failure.
 */
export function python(server, code, extraEnv = {}) {
  const result = spawnSync(pythonBin(), ["-c", code], {
    cwd: server.root,
    env: sdkEnv(server, extraEnv),
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** Starts Python code in the background (for live runs); returns the child process. */
export function pythonInBackground(server, code, extraEnv = {}) {
  return spawn(pythonBin(), ["-c", code], {
    cwd: server.root,
    env: sdkEnv(server, extraEnv),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Headless Debian Chromium. Flags keep it off the network this machine cannot reach. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A browser page already signed in as the admin (the key cookie the login sets). */
export async function signedInPage(browser, server, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name: "heron_key", value: server.apiKey, url: server.url }]);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  return page;
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

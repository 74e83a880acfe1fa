import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a running `heron server` (HERON_URL, default the local one).
const server = process.env.HERON_URL ?? "http://127.0.0.1:8745";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: { proxy: { "/api": server, "/login": server } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});

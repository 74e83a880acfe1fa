import { describe, expect, it } from "vitest";
import type { Json } from "../api";
import { suggest } from "./autocomplete";

const fields = ["config.lr", "config.optimizer", "config.batch size", "summary.loss", "summary.train/loss"];
const values: Record<string, Json[]> = { "config.optimizer": ["adam", "sgd", "adam"], state: ["running", "finished"] };
const context = { fields, valuesOf: (path: string) => values[path] ?? [] };
const labels = (text: string, cursor = text.length) => suggest(text, cursor, context).items.map((item) => item.label);

describe("filter autocomplete", () => {
  it("offers field paths where a predicate starts", () => {
    expect(labels("con")).toEqual(["config.lr", "config.optimizer", "config.`batch size`"]);
    expect(labels("summary.")).toEqual(["summary.loss", "summary.train/loss"]);
    expect(labels("")).toContain("state");
    expect(labels("")).toContain("not");
    expect(labels("config.lr > 1 and su")).toEqual(["summary.loss", "summary.train/loss"]);
    expect(labels("(sta")).toEqual(["state"]);
  });

  it("replaces the word being typed", () => {
    const result = suggest("config.lr > 1 and su", 20, context);
    expect(result.from).toBe(18);
    expect(result.to).toBe(20);
    expect(result.items[0]!.insert).toBe("summary.loss ");
  });

  it("offers operators after a field", () => {
    expect(labels("config.lr ")).toContain(">=");
    expect(labels("config.lr ")).toContain("not contains");
    expect(labels("config.lr >")).toEqual([">="]);
    expect(labels("tags con")).toEqual(["contains", "not contains"]);
    expect(labels("tags not ")).toEqual(["in", "contains", "exists"]);
    expect(labels("group is ")).toEqual(["null", "not null"]);
    expect(labels("group is not ")).toEqual(["null"]);
    expect(labels("group is null ")).toEqual(["and", "or"]);
  });

  it("offers values seen in the runs after an operator", () => {
    expect(labels("config.optimizer = ")).toEqual(['"adam"', '"sgd"']);
    expect(labels('config.optimizer = "s')).toEqual(['"sgd"']);
    expect(labels("state in (")).toEqual(['"running"', '"finished"']);
  });

  it("offers and / or after a predicate", () => {
    expect(labels('state = "running" ')).toEqual(["and", "or"]);
    expect(labels("config.lr exists o")).toEqual(["or"]);
    expect(labels('state in ("a", "b") ')).toEqual(["and", "or"]);
  });

  it("offers metric reductions under metrics.", () => {
    expect(labels("metrics.tr")).toEqual([
      "metrics.train/loss.min",
      "metrics.train/loss.max",
      "metrics.train/loss.last",
      "metrics.train/loss.count",
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { queryPath } from "./query";
import { clickSort, formatSort, parseSort, sortRank } from "./sort";

describe("sort strings", () => {
  it("reads directions, minus prefixes and backquoted fields", () => {
    expect(parseSort("summary.loss desc, config.lr")).toEqual([
      { field: "summary.loss", desc: true },
      { field: "config.lr", desc: false },
    ]);
    expect(parseSort("-created_at,name ASC")).toEqual([
      { field: "created_at", desc: true },
      { field: "name", desc: false },
    ]);
    expect(parseSort("config.`a, b` desc")).toEqual([{ field: "config.`a, b`", desc: true }]);
    expect(parseSort("`config`.lr")).toEqual([{ field: "config.lr", desc: false }]);
    expect(parseSort("")).toEqual([]);
  });

  it("writes the server's form", () => {
    expect(formatSort([{ field: "summary.loss", desc: true }, { field: "config.lr", desc: false }])).toBe(
      "summary.loss desc, config.lr",
    );
    expect(formatSort([])).toBe("");
  });

  it("a plain click sorts by one field: ascending, descending, then off", () => {
    let keys = clickSort([], "summary.loss", false);
    expect(formatSort(keys)).toBe("summary.loss");
    keys = clickSort(keys, "summary.loss", false);
    expect(formatSort(keys)).toBe("summary.loss desc");
    keys = clickSort(keys, "summary.loss", false);
    expect(formatSort(keys)).toBe("");
    // Another header replaces the sort.
    expect(formatSort(clickSort(parseSort("summary.loss desc"), "config.lr", false))).toBe("config.lr");
    // A plain click on a key of a multi-key sort keeps only it, direction flipped.
    expect(formatSort(clickSort(parseSort("summary.loss, config.lr"), "config.lr", false))).toBe("config.lr desc");
  });

  it("shift-click adds a secondary key and cycles it in place", () => {
    let keys = clickSort(parseSort("summary.loss desc"), "config.lr", true);
    expect(formatSort(keys)).toBe("summary.loss desc, config.lr");
    keys = clickSort(keys, "config.lr", true);
    expect(formatSort(keys)).toBe("summary.loss desc, config.lr desc");
    keys = clickSort(keys, "config.lr", true);
    expect(formatSort(keys)).toBe("summary.loss desc");
    keys = clickSort(keys, "summary.loss", true);
    expect(formatSort(keys)).toBe("");
  });

  it("quotes field names that need backquotes", () => {
    expect(formatSort(clickSort([], queryPath("config.batch size"), false))).toBe("config.`batch size`");
    expect(sortRank(parseSort("name, config.`batch size` desc"), "config.`batch size`")).toEqual({ rank: 2, desc: true });
    expect(sortRank([], "name")).toBeNull();
  });
});

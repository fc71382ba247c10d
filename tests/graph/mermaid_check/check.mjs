// Parses each Mermaid file named on the command line with mermaid-js; exit 1 if any fails.
// mermaid needs a DOM even to parse, so jsdom provides one.
import fs from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;

const mermaid = (await import("mermaid")).default;
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(fs.readFileSync(file, "utf8"));
    console.log("OK", file, JSON.stringify(result));
  } catch (error) {
    failed += 1;
    console.log("FAIL", file, String(error.message || error));
  }
}
process.exit(failed ? 1 : 0);

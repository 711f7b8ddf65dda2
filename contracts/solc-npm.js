#!/usr/bin/env node
// Adapter that makes the npm `solc` package (soljson, pinned by package-lock.json) answer
// like the native `solc` binary for the two calls py-solc-x makes: `--version` and
// `--standard-json` (input on stdin). Imports resolve under contracts/src and node_modules.
"use strict";
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..");
const solc = require(path.join(root, "node_modules", "solc"));

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write("solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n");
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc-npm: only --version and --standard-json are supported\n");
  process.exit(2);
}
function findImports(importPath) {
  for (const base of [path.join(root, "contracts", "src"), path.join(root, "node_modules"), root]) {
    const candidate = path.resolve(base, importPath);
    if (candidate.startsWith(root) && fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: "not found: " + importPath };
}
const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));

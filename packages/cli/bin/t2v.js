#!/usr/bin/env node
// A committed launcher, so npm links the `t2v` command at install time, before
// the TypeScript build has produced dist/.
await import("../dist/main.js");

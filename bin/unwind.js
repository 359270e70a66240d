#!/usr/bin/env node
// The `unwind` operator CLI. Sources run through tsx, so a checkout needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts');

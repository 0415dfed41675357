/**
 * The four parts of prom-client the shipper uses, loaded without the package's
 * index. The index also loads the cluster aggregator (node:cluster and what it
 * pulls in), the push gateway, the summary's t-digest and every default
 * collector: about 18 MiB more resident for a process that never uses them
 * (`/usr/bin/time -f %M`, docs/benchmarks.md, "The shipper's peak RSS"). Each of
 * these files sets `module.exports` to the class the index exports under the same
 * name (prom-client 15, lib/*.js), so the package's own types describe them.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;

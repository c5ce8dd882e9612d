// Runs the model worker from TypeScript source under tsx (tests only); the
// extension and the CLI run the bundled dist/model-worker.js instead.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(workerData.entry).href);

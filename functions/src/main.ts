import { ENTRY_POINTS, isFunctionName } from './entries/entry-points.js';

/**
 * The package's "main", which the Cloud Functions runtime imports. It registers only the function this instance
 * serves: the runtime sets FUNCTION_TARGET to the deployed --entry-point, and functions-framework serves that
 * name (it reads the same variable). Loading one function's modules instead of all four keeps a cold start's
 * import to what that function needs (bench/cold-start.ts). Without a known target (functions-framework run
 * by hand with --target) every function is registered, as index.ts does.
 */
const target = process.env.FUNCTION_TARGET;
if (isFunctionName(target)) await ENTRY_POINTS[target]();
else await import('./index.js');

// Loader hooks of import-recorder.mjs: report each resolved URL to the main thread.
let port;

export function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  // The marker is reported as asked for, so the main thread can recognise it.
  port.postMessage(specifier.includes('import-recorder-marker=') ? specifier : result.url);
  return result;
}

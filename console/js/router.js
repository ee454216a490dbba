// Hash router (#/t/{tenant}/mappings/{id}?x=y): works on any static host, no rewrites needed.

/**
 * @typedef {{path: string, params: Record<string, string>, query: URLSearchParams}} Route
 * @typedef {(route: Route, el: HTMLElement) => any} View renders into `el`, resolves to the page title
 */

/** @type {[RegExp, string[], View][]} */
const routes = [];

export function defineRoutes(defs) {
  for (const [pattern, view] of defs) {
    const keys = [];
    const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, k) => (keys.push(k), '([^/]+)'))}$`);
    routes.push([re, keys, view]);
  }
}

/** @returns {Route} */
export function currentRoute() {
  const [path = '/', qs = ''] = (location.hash.slice(1) || '/').split('?');
  return { path, params: {}, query: new URLSearchParams(qs) };
}

/** Finds the view for a route and fills in its params. @param {Route} route */
export function match(route) {
  for (const [re, keys, view] of routes) {
    const m = re.exec(route.path);
    if (m) {
      keys.forEach((k, i) => (route.params[k] = decodeURIComponent(m[i + 1] ?? '')));
      return view;
    }
  }
  return null;
}

export function navigate(path, replace = false) {
  if (replace || location.hash === `#${path}`) {
    history.replaceState(null, '', `#${path}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = path;
}

// Prints the SDK's public surface as JSON, for the Python SDK's parity test:
//   {"methods": ["agents.list", "me", ...], "sessionMethods": ["end", "logTurn"], "errors": ["APIConnectionError", ...]}
// Run after `npm run build`: node scripts/surface.mjs
import * as sdk from '../dist/index.js';

const client = new sdk.ProvenantClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'pk_live_x' });

/** Public methods of an object's class chain: no constructor, no getters, nothing starting with `_`. */
function methodsOf(object) {
  const names = new Set();
  for (let proto = Object.getPrototypeOf(object); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (name !== 'constructor' && !name.startsWith('_') && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}

const resources = Object.entries(client).filter(([, value]) => value !== null && typeof value === 'object');
const methods = [
  ...methodsOf(client),
  ...resources.flatMap(([resource, value]) => methodsOf(value).map((method) => `${resource}.${method}`)),
].sort();

const errors = Object.entries(sdk)
  .filter(([, value]) => typeof value === 'function' && (value === Error || value.prototype instanceof Error))
  .map(([name]) => name)
  .sort();

const sessionMethods = methodsOf(Object.create(sdk.BackgroundSession.prototype)).sort();

console.log(JSON.stringify({ methods, sessionMethods, errors }));

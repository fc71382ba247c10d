/*
 * Module resolution hooks (module.register) of the local Node.js runtime: an ES module import
 * that Node resolves to a file outside the function's code (the task root) or the runtime's own
 * folder fails as it fails on Lambda, where nothing above /var/task holds packages. Locally the
 * code is unpacked under the service folder's .tool/, and Node's resolution would otherwise find
 * the service folder's own node_modules (development dependencies included) by walking up.
 * What Lambda's runtime provides, the AWS SDK v3 (`@aws-sdk/*`), is the exception: it resolves
 * where Node finds it, and so does whatever it imports in turn.
 */
import { fileURLToPath } from 'node:url';

let allowed = [];
let runtimeProvided = /^$/;

export async function initialize(data) {
  allowed = data.allowed;
  runtimeProvided = new RegExp(data.runtimeProvided);
}

const within = (file) => allowed.some((root) => file.startsWith(root));

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith('file:')) return resolved;
  const file = fileURLToPath(resolved.url);
  const parent = context.parentURL?.startsWith('file:') ? fileURLToPath(context.parentURL) : null;
  // Inside the code, the runtime's SDK, or a module the SDK imports (outside the code already).
  if (within(file) || runtimeProvided.test(specifier) || (parent && !within(parent))) {
    return resolved;
  }
  const bare = !/^(\.|\/|file:)/.test(specifier);
  const error = new Error(
    bare
      ? `Cannot find package '${specifier}' imported from ${parent || 'the handler'}`
      : `Cannot find module '${file}' imported from ${parent || 'the handler'}`,
  );
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;
}

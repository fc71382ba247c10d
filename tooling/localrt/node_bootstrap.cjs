/*
 * Runs Lambda invocations inside a Node.js process, one execution environment (no
 * dependencies).
 *
 * Started by lambda_runner.py as `node node_bootstrap.cjs REQUEST_FD RESULT_FD`, with the
 * function's code directory as cwd and Lambda's environment (`_HANDLER`, `LAMBDA_TASK_ROOT`, ...).
 * It speaks the protocol of lambda_bootstrap.py (init_done / init_error, then for each request
 * read from REQUEST_FD the result, one JSON line each: a warm environment serves several
 * invocations, its module state kept; timers left pending resume in the next invocation, as
 * on Lambda, since the runner freezes the process in between) and mirrors AWS's Node.js runtime
 * interface client
 * (aws/aws-lambda-nodejs-runtime-interface-client: UserFunction.js loads the handler, Runtime.js
 * and CallbackContext.js run it, Errors.js shapes errors, LogPatch.js formats console output):
 *
 * - the handler `[dir/]module.export[.nested]` is loaded as Lambda loads it: the file itself,
 *   then `.js` (CommonJS unless the nearest package.json says "type": "module"), then `.js` as
 *   an ES module, `.mjs`, `.cjs`, then Node's own resolution; `..` in it is refused;
 * - an async handler (or one returning a promise) answers with what it resolves to; a callback
 *   handler answers with callback(err, result), once the event loop is empty unless
 *   context.callbackWaitsForEmptyEventLoop is false; context.succeed/fail/done work too;
 * - errors answer {"errorType": error.name, "errorMessage": error.message, "trace": stack lines}
 *   and log `Invoke Error` with the error as JSON; a value that is not an Error answers
 *   errorType `typeof value`;
 * - console.log/info/warn/error/debug/trace print `<ISO time>\t<request id>\t<LEVEL>\t<message>`
 *   (the runtime's text format; the request id is "undefined" during init);
 * - modules resolve within the function's code and this folder only, as on Lambda where nothing
 *   above /var/task holds packages: `require` through Module._nodeModulePaths and globalPaths,
 *   `import` through resolve hooks (node_resolve_hooks.mjs; Node 18.19+/20.6+). Without that, the
 *   code unpacked under the service folder's .tool/ would find the folder's own node_modules.
 *   The exception is what Lambda's runtime provides, the AWS SDK v3 (`@aws-sdk/*`): found where
 *   Node finds it (the service folder's node_modules), with everything it needs.
 */

'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const requestFd = Number(process.argv[2]);
const resultFd = Number(process.argv[3]);
let currentRequestId;

// --- console, as LogPatch.js's text format ---------------------------------------------------

function logLine(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(
    message,
    ...params,
  )}\n`;
  fs.writeSync(1, line);
}

function patchConsole() {
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const wanted = levels.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase());
  const threshold = wanted >= 0 ? wanted : 0;
  const at = (level) =>
    levels.indexOf(level) >= threshold || level === 'FATAL'
      ? (msg, ...params) => logLine(level, msg, ...params)
      : () => {};
  console.trace = at('TRACE');
  console.debug = at('DEBUG');
  console.info = at('INFO');
  console.log = console.info;
  console.warn = at('WARN');
  console.error = at('ERROR');
  console.fatal = at('FATAL');
}

// --- errors, as Errors.js ----------------------------------------------------------------------

// The runtime's own errors: classes whose prototype carries the name, as in Errors.js (so the
// name is not an own property and stays out of the logged JSON).
const runtimeErrors = {};
for (const name of [
  'ImportModuleError',
  'HandlerNotFound',
  'MalformedHandlerName',
  'UserCodeSyntaxError',
  'NodeJsExit',
  'UnhandledPromiseRejection',
]) {
  runtimeErrors[name] = class extends Error {};
  runtimeErrors[name].prototype.name = `Runtime.${name}`;
}

function runtimeError(name, message) {
  return new runtimeErrors[name](message);
}

function isErrorLike(value) {
  return (
    value &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string'
  );
}

function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const copy = Object.assign(
      { errorType: value.name, errorMessage: value.message, code: value.code },
      value,
    );
    if (typeof value.stack === 'string') {
      copy.stack = value.stack.split('\n');
    }
    return copy;
  }
  return value;
}

function logError(what, error) {
  const asError = error instanceof Error ? error : new Error(error);
  let formatted;
  try {
    formatted = '\t' + JSON.stringify(asError, (_k, v) => withEnumerableProperties(v));
  } catch (_) {
    formatted = '\t' + JSON.stringify(toRapidResponse(asError));
  }
  console.error(what, formatted);
}

// --- the protocol with lambda_runner.py ------------------------------------------------------

function peakMemoryKb() {
  return process.resourceUsage().maxRSS;
}

let answered = false; // the current invocation's (or init's) answer is out
let nextInvocation = () => {};

function send(message, exitCode) {
  if (answered) return;
  answered = true;
  // What the function wrote through process.stdout/stderr first: the runner reads the log up
  // to the result. Then the process exits (a crash, a failed init) or takes the next request.
  process.stdout.write('', () => {
    process.stderr.write('', () => {
      fs.writeSync(resultFd, JSON.stringify(message) + '\n');
      if (exitCode !== undefined) process.exit(exitCode);
      else nextInvocation();
    });
  });
}

let pending = Buffer.alloc(0);

// The next request line, read synchronously (the runner writes it once it thawed the process);
// null once the runner closed the channel.
function readRequest() {
  const buffer = Buffer.alloc(65536);
  for (;;) {
    const end = pending.indexOf(10);
    if (end >= 0) {
      const line = pending.subarray(0, end).toString('utf8');
      pending = pending.subarray(end + 1);
      return JSON.parse(line);
    }
    let read;
    try {
      read = fs.readSync(requestFd, buffer, 0, buffer.length, null);
    } catch (error) {
      if (error.code === 'EAGAIN') continue;
      throw error;
    }
    if (read === 0) return null;
    pending = Buffer.concat([pending, buffer.subarray(0, read)]);
  }
}

// --- loading the handler, as UserFunction.js ---------------------------------------------------

function tryRequireFile(file, extension) {
  const candidate = file + (extension || '');
  return fs.existsSync(candidate) ? require(candidate) : undefined;
}

async function tryImport(file, extension) {
  const candidate = file + (extension || '');
  return fs.existsSync(candidate) ? await import(pathToFileURL(candidate).href) : undefined;
}

function folderIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      return JSON.parse(fs.readFileSync(manifest)).type === 'module';
    } catch (error) {
      console.warn(
        `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
        error,
      );
      return false;
    }
  }
  if (folder === '/') return false;
  return folderIsModule(path.resolve(folder, '..'));
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;
  const isModule =
    fs.existsSync(lambdaStylePath + '.js') &&
    folderIsModule(path.resolve(path.dirname(lambdaStylePath + '.js')));
  if (!isModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (isModule && (await tryImport(lambdaStylePath, '.js'))) ||
    (await tryImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, handlerString) {
  if (handlerString.includes('..')) {
    throw runtimeError(
      'MalformedHandlerName',
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(base));
  const match = base.match(/^([^.]*)\.(.*)$/);
  if (!match) throw runtimeError('MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error));
    if (error && error.code === 'MODULE_NOT_FOUND') {
      throw runtimeError('ImportModuleError', String(error));
    }
    throw error;
  }
  const handler = handlerPath.split('.').reduce((nested, key) => nested && nested[key], app);
  if (!handler) {
    throw runtimeError('HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw runtimeError('HandlerNotFound', `${handlerString} is not a function`);
  }
  return handler;
}

// --- one invocation, as Runtime.js and CallbackContext.js --------------------------------------

// What the event loop running empty means for the invocation under way (Runtime.js).
let beforeExit = () => {};

function invoke(handler, request) {
  currentRequestId = request.request_id;
  const deadline = Date.now() + request.timeout_ms;
  const isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';

  answered = false;
  const respond = (payload, errorType) =>
    send({ kind: 'result', payload, error_type: errorType, max_memory_kb: peakMemoryKb() });
  const postError = (error) => {
    logError('Invoke Error', error);
    respond(JSON.stringify(toRapidResponse(error)), toRapidResponse(error).errorType);
  };
  const complete = (result) => {
    let text;
    try {
      text = JSON.stringify(result === undefined ? null : result);
    } catch (_) {
      postError(new Error('Unable to stringify response body'));
      return;
    }
    respond(text, null);
  };

  beforeExit = () => {
    if (isAsync) {
      postError(
        runtimeError(
          'NodeJsExit',
          'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
        ),
      );
    } else {
      complete(null);
    }
  };

  let finished = false;
  let waitForEmptyEventLoop = true;
  const once =
    (fn) =>
    (...args) => {
      if (finished) return;
      finished = true;
      fn(...args);
    };
  const done = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const callback = once((err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!waitForEmptyEventLoop) {
      complete(result);
    } else {
      beforeExit = () => setImmediate(() => complete(result));
    }
  });
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => done(err === undefined || err === null ? 'handled' : err, null)),
    done: once(done),
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: request.invoked_function_arn,
    awsRequestId: request.request_id,
    tenantId: undefined,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };

  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    send(
      {
        kind: 'result',
        payload: JSON.stringify(toRapidResponse(error)),
        error_type: toRapidResponse(error).errorType,
        max_memory_kb: peakMemoryKb(),
      },
      129,
    );
  });
  process.on('unhandledRejection', (reason) => {
    const error = runtimeError('UnhandledPromiseRejection', String(reason));
    logError('Unhandled Promise Rejection', error);
    send(
      {
        kind: 'result',
        payload: JSON.stringify(toRapidResponse(error)),
        error_type: error.name,
        max_memory_kb: peakMemoryKb(),
      },
      128,
    );
  });

  try {
    const result = handler(JSON.parse(request.event), context, callback);
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail);
    }
  } catch (error) {
    callback(error);
  }
}

// --- init ------------------------------------------------------------------------------------

function initFailed(error) {
  logError('Uncaught Exception', error);
  const response = toRapidResponse(error);
  send(
    {
      kind: 'init_error',
      payload: JSON.stringify(response),
      error_type: response.errorType,
      max_memory_kb: peakMemoryKb(),
    },
    1,
  );
}

// --- module resolution, confined to the code and the runtime ------------------------------------

// Lambda's Node.js 18+ runtimes hold the AWS SDK for JavaScript v3 outside the function's code
// (/var/runtime/node_modules): a handler may import `@aws-sdk/*` without packaging it. Locally the
// copy installed in the service folder (or above) stands in for the runtime's.
const RUNTIME_PROVIDED = /^@aws-sdk\//;

function confineModuleResolution(appRoot) {
  const Module = require('module');
  const allowed = [fs.realpathSync(appRoot), __dirname].map((root) => root + path.sep);
  const inside = (folder) => allowed.some((root) => (folder + path.sep).startsWith(root));
  const nodeModulePaths = Module._nodeModulePaths;
  let unconfined = false;
  Module._nodeModulePaths = function confined(from) {
    const paths = nodeModulePaths.call(this, from);
    return unconfined || !inside(from) ? paths : paths.filter(inside);
  };
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolve(request, parent, isMain, options) {
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (error) {
      if (!RUNTIME_PROVIDED.test(request) || error.code !== 'MODULE_NOT_FOUND') throw error;
      // The requiring module's own lookup paths were confined when it loaded: start again
      // from its folder, unconfined.
      const from = parent && parent.filename ? path.dirname(parent.filename) : appRoot;
      unconfined = true;
      try {
        return resolveFilename.call(this, request, parent, isMain, { paths: [from] });
      } finally {
        unconfined = false;
      }
    }
  };
  Module.globalPaths.splice(0, Module.globalPaths.length, ...Module.globalPaths.filter(inside));
  if (typeof Module.register === 'function') {
    Module.register(pathToFileURL(path.join(__dirname, 'node_resolve_hooks.mjs')), {
      data: { allowed, runtimeProvided: RUNTIME_PROVIDED.source },
    });
  }
}

async function main() {
  // The runner's go for the Init phase ({"kind": "init"}): a runtime started ahead of its first
  // invocation loads none of the function's code before it is invoked.
  if (readRequest() === null) process.exit(0);
  patchConsole();
  process.on('uncaughtException', initFailed);
  process.on('unhandledRejection', (reason) =>
    initFailed(runtimeError('UnhandledPromiseRejection', String(reason))),
  );
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    confineModuleResolution(appRoot);
    handler = await loadHandler(appRoot, process.env._HANDLER || '');
  } catch (error) {
    initFailed(error);
    return;
  }
  await new Promise((resolve) => process.stdout.write('', resolve)); // init output first
  fs.writeSync(resultFd, JSON.stringify({ kind: 'init_done' }) + '\n');
  process.on('beforeExit', () => beforeExit());
  nextInvocation = () => {
    const request = readRequest();
    if (request === null) process.exit(0); // the environment is ended
    invoke(handler, request);
  };
  nextInvocation();
}

main();

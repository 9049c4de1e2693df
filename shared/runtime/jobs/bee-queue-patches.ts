import { createHash } from 'node:crypto';
import BeeQueue from 'bee-queue';
// @ts-expect-error bee-queue publishes no types for its Job class
import JobClass from 'bee-queue/lib/job.js';
// The module bee-queue itself requires as './lua' (in a bundle, the build's inlined copy of it): one instance,
// so the scripts reloaded here are the very ones bee-queue calls by SHA.
// @ts-expect-error bee-queue publishes no types for its script loader
import luaLoader from 'bee-queue/lib/lua/index.js';
import { COUNTED_STALL_CHECK, COUNTED_STALL_CHECK_NAME, countStallsOnRead } from './starts.ts';

type Callback = (error: Error | null, reply?: unknown) => void;
/** node_redis 3's client, or a batch or MULTI built from it. */
type Commandable = { evalsha(...args: [...unknown[], Callback]): unknown };
type Job = BeeQueue.Job<unknown>;
const lua = luaLoader as {
  scripts: Record<string, string>;
  shas: Record<string, string>;
  buildCache(client: Commandable): Promise<unknown>;
};
type QueueInternals = {
  client: Commandable | null;
  _evalScriptOn(commandable: Commandable, args: unknown[]): Promise<unknown>;
  _evalScript(name: string, ...args: unknown[]): Promise<unknown>;
  _doStalledJobCheck(): Promise<number>;
  saveAll(jobs: Iterable<Job>): Promise<Map<Job, Error>>;
  toKey(key: string): string;
  settings: { stallInterval: number };
  emit(event: string, ...args: unknown[]): boolean;
};
const JobStatics = JobClass as { fromData(queue: unknown, jobId: string, data: string): Job };

const PATCHED = Symbol.for('handler-kit.bee-queue.noscript-recovery');
const proto = BeeQueue.prototype as unknown as QueueInternals & { [PATCHED]?: true };

/**
 * bee-queue loads its Lua scripts into Redis once per connection, so after Redis restarts (or SCRIPT FLUSH)
 * every script call fails with NOSCRIPT until the process restarts. Patched here, once for the process: a
 * call answered NOSCRIPT reloads the scripts on the queue's client and runs once more. A script that was
 * not found did not run, so running it again cannot do its work twice.
 */
if (!proto[PATCHED]) {
  proto[PATCHED] = true;
  const evalScriptOn = proto._evalScriptOn;
  // bee-queue's own call (the script's SHA for its name, then a callback), answered through one promise: every
  // enqueue pays for this, so it adds no promise and no copy of the arguments to the original's.
  proto._evalScriptOn = function (commandable, args) {
    // A batch answers only once the whole batch has run, so saveAll (below) retries its jobs instead.
    if (commandable !== this.client) return evalScriptOn.call(this, commandable, args);
    const name = args[0] as string;
    return new Promise((resolve, reject) => {
      args[0] = lua.shas[name];
      args.push((error: Error | null, reply?: unknown) => {
        if (!error) return resolve(reply);
        if (!isNoScript(error)) return reject(error);
        args.pop();
        args[0] = name;
        reloadScripts(commandable)
          .then(() => evalScriptOn.call(this, commandable, args))
          .then(resolve, reject);
      });
      commandable.evalsha.apply(commandable, args as [...unknown[], Callback]);
    });
  };

  const saveAll = proto.saveAll;
  proto.saveAll = async function (jobs) {
    const list = [...jobs];
    const errors = await saveAll.call(this, list);
    const lost = list.filter((job) => isNoScript(errors.get(job)));
    if (lost.length === 0 || !this.client) return errors;
    await reloadScripts(this.client);
    for (const job of lost) errors.delete(job);
    for (const [job, error] of await saveAll.call(this, lost)) errors.set(job, error);
    return errors;
  };

  // Stall recovery also counts each job it brings back, for the poison cap (see starts.ts). The script is
  // loaded with bee-queue's own, on every connection and after every NOSCRIPT reload, since both loaders
  // load every script they hold.
  lua.scripts[COUNTED_STALL_CHECK_NAME] = COUNTED_STALL_CHECK;
  lua.shas[COUNTED_STALL_CHECK_NAME] = createHash('sha1').update(COUNTED_STALL_CHECK).digest('hex');
  proto._doStalledJobCheck = async function () {
    const stalled = (await this._evalScript(
      COUNTED_STALL_CHECK_NAME,
      5,
      this.toKey('stallBlock'),
      this.toKey('stalling'),
      this.toKey('waiting'),
      this.toKey('active'),
      this.toKey('jobs'),
      this.settings.stallInterval,
    )) as string[];
    for (const jobId of stalled) this.emit('stalled', jobId);
    return stalled.length;
  };
  const fromData = JobStatics.fromData;
  JobStatics.fromData = function (queue, jobId, data) {
    const job = fromData.call(this, queue, jobId, data);
    countStallsOnRead(job, data);
    return job;
  };
}

/**
 * Saves a job as Job#save does, calling the script at once on a queue that has connected: save() first waits
 * for the connection it already has (a resolved promise, then the call's promise adopted by another), promise
 * steps every enqueue paid for nothing. A queue not connected yet, or closed, saves through save() itself.
 */
export function saveNow<T>(job: BeeQueue.Job<T>): Promise<BeeQueue.Job<T>> {
  const queue = job.queue as unknown as QueueInternals & { _isReady?: boolean; _isClosed?: boolean };
  const client = queue.client;
  if (queue._isReady !== true || queue._isClosed || !client) return job.save();
  const internal = job as unknown as {
    _save(evalScript: (args: unknown[]) => Promise<unknown>): Promise<Job>;
  };
  return internal._save((args) => queue._evalScriptOn(client, args)) as Promise<BeeQueue.Job<T>>;
}

function isNoScript(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'NOSCRIPT' || (typeof message === 'string' && message.startsWith('NOSCRIPT'));
}

// Every call in flight fails at once after a flush; they share one reload per connection.
const reloading = new WeakMap<object, Promise<unknown>>();

function reloadScripts(client: Commandable): Promise<unknown> {
  const pending = reloading.get(client);
  if (pending) return pending;
  const reload = lua.buildCache(client).finally(() => reloading.delete(client));
  reloading.set(client, reload);
  return reload;
}

// Reads what the replicas did from their JSON log lines (`docker compose logs --no-log-prefix`): the effects
// that must happen once (a welcome mail, a stored export, a cron tick's run, a migration) counted by key.

/** The JSON objects among `text`'s lines; other lines (a stack trace, compose's own) are skipped. */
export function logRecords(text) {
  return text.split('\n').flatMap((line) => {
    const start = line.indexOf('{');
    if (start === -1) return [];
    try {
      return [JSON.parse(line.slice(start))];
    } catch {
      return [];
    }
  });
}

/** Welcome mails per recipient: the mailer's one line per message, logged or sent. */
export function mailsPerAddress(records) {
  return countBy(records.filter((r) => /^mail (sent|not sent)/.test(r.msg ?? '')).map((r) => r.to));
}

/** Export files stored per export id: export-notes logs `notes exported` only when its copy was the one kept. */
export function exportsStored(records) {
  return countBy(records.filter((r) => r.msg === 'notes exported').map((r) => r.exportId));
}

/** Per cron tick of `task`: how many workers enqueued it, how many runs it had, and how many succeeded. */
export function tickRuns(records, task) {
  const ticks = new Map();
  const of = (tick) => {
    if (!ticks.has(tick)) ticks.set(tick, { enqueued: 0, runs: 0, succeeded: 0 });
    return ticks.get(tick);
  };
  for (const r of records) {
    if (r.task !== task) continue;
    if (r.msg === 'scheduled job enqueued') of(r.tick).enqueued++;
    if (r.msg === 'job' && String(r.jobId).startsWith(`${task}@`)) {
      const tick = of(String(r.jobId).slice(task.length + 1));
      tick.runs++;
      if (r.outcome === 'succeeded') tick.succeeded++;
    }
  }
  return ticks;
}

/** The ticks of an every-`everyMs` schedule strictly between two instants, as ISO strings. */
export function ticksBetween(fromMs, toMs, everyMs) {
  const ticks = [];
  for (let at = Math.floor(fromMs / everyMs) * everyMs + everyMs; at < toMs; at += everyMs) {
    ticks.push(new Date(at).toISOString());
  }
  return ticks;
}

/** Migrations applied per name, across every process that logged `migration applied`. */
export function migrationsApplied(records) {
  return countBy(records.filter((r) => r.msg === 'migration applied').map((r) => r.migration));
}

/** Records at warn level or above (pino: 40) whose message or error mentions a migration. */
export function migrationProblems(records) {
  return records.filter((r) => r.level >= 40 && /migrat/i.test(`${r.msg} ${r.err?.message ?? ''}`));
}

function countBy(keys) {
  const counts = new Map();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/**
 * Requests one app replica answered between its `draining` and `drain over` lines (SHUTDOWN_DRAIN_MS): what
 * nginx still sent it after its SIGTERM. Its own healthcheck's probes are not counted.
 */
export function servedWhileDraining(records) {
  let draining = false;
  let served = 0;
  for (const r of records) {
    if (r.msg?.startsWith('draining')) draining = true;
    else if (r.msg?.startsWith('drain over')) draining = false;
    else if (draining && r.msg === 'request' && !/^\/(readyz|healthz)/.test(r.path)) served++;
  }
  return served;
}

/** A bee-queue job, as far as its count of stalls goes. */
type CountedJob = { options: object };

/**
 * The count of a job's starts, for the poison cap. bee-queue writes a job back only when a run ends, so a run
 * that kills its worker (kill -9, process.exit, out of memory) leaves no trace in the job, and stall recovery
 * hands it out again as if for the first time. So stall recovery counts it: the script that moves a stalled
 * job back to waiting also bumps a count in the job's own data, in the same atomic step. A healthy job pays
 * nothing for this (no round trip, no key), and a job that failed normally is counted by its attempt (bee-queue
 * takes a retry off it): starts = attempt + stalls.
 */
export function jobStarts(job: CountedJob, attempt: number): number {
  return attempt + stallsOf(job);
}

/** How often stall recovery brought the job back, that is, runs that never ended. */
export function stallsOf(job: CountedJob): number {
  const stalls = (job.options as { stalls?: unknown }).stalls;
  return typeof stalls === 'number' ? stalls : 0;
}

/** Forgets the stalls of a job that starts afresh (an operator's retry). */
export function forgetStalls(job: CountedJob): void {
  delete (job.options as { stalls?: number }).stalls;
}

/**
 * Stall recovery counts a job's stalls in a prefix of its stored JSON, `{"stalls":N,` before bee-queue's own
 * `"data":...` (Job#toData always writes `{"data":` first, so the prefix is only ever the script's). The
 * payload is never decoded and encoded again, so no value in it can change. Reading a job folds the prefix
 * into `options.stalls`, which bee-queue writes back with the job when a run ends (see countStallsOnRead).
 */
const STALL_PREFIX = '{"stalls":';

/**
 * bee-queue's checkStalledJobs.lua, plus the count: KEYS[5] is the queue's job hash. Only jobs the script
 * really moves back to waiting are counted, the same ones bee-queue emits `stalled` for.
 */
export const COUNTED_STALL_CHECK = `
if not redis.call("set", KEYS[1], "1", "PX", tonumber(ARGV[1]), "NX") then
  return {}
end
local maxUnpack = 1024
local stalling, stalled = redis.call("smembers", KEYS[2]), {}
if next(stalling) ~= nil then
  for i, jobId in ipairs(stalling) do
    local removed = redis.call("lrem", KEYS[4], 0, jobId)
    if removed > 0 then
      stalled[#stalled + 1] = jobId
      local data = redis.call("hget", KEYS[5], jobId)
      if data then
        local count, rest = string.match(data, '^{"stalls":(%d+),(.*)$')
        if count then
          data = '{"stalls":' .. (tonumber(count) + 1) .. ',' .. rest
        else
          data = '{"stalls":1,' .. string.sub(data, 2)
        end
        redis.call("hset", KEYS[5], jobId, data)
      end
    end
  end
  local pushed = 0
  local nStalled = #stalled
  while pushed < nStalled do
    redis.call("lpush", KEYS[3], unpack(stalled, pushed + 1, math.min(pushed + maxUnpack, nStalled)))
    pushed = pushed + maxUnpack
  end
  redis.call("del", KEYS[2])
end
local actives, added = redis.call("lrange", KEYS[4], 0, -1), 0
local nActives = #actives
while added < nActives do
  redis.call("sadd", KEYS[2], unpack(actives, added + 1, math.min(added + maxUnpack, nActives)))
  added = added + maxUnpack
end
return stalled
`;

/** The name the counted check is loaded under, beside bee-queue's own scripts. */
export const COUNTED_STALL_CHECK_NAME = 'checkStalledJobsCounted';

/**
 * What a job read from Redis carries: bee-queue's fields, and the stalls counted since its last write-back
 * added to those written back before. Called by the patched Job.fromData (see bee-queue-patches.ts).
 */
export function countStallsOnRead(job: CountedJob, stored: string): void {
  if (!stored.startsWith(STALL_PREFIX)) return;
  const counted = Number.parseInt(stored.slice(STALL_PREFIX.length), 10);
  if (counted > 0) (job.options as { stalls?: number }).stalls = stallsOf(job) + counted;
}

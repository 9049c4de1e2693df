// The part of autocannon 9's programmatic API the HTTP bench uses; the package ships no types of its own.
declare module 'autocannon' {
  type Options = {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
  };
  type Result = {
    /** Seconds the run took. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number; average: number };
    /** Milliseconds. */
    latency: { p50: number; p99: number; average: number; max: number };
  };
  export default function autocannon(options: Options): Promise<Result>;
}

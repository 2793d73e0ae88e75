// Bounded waiting for integration tests: poll a condition, or wait for an event, and fail naming what never happened.

/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** What we are waiting for, in words; it is the failure message (a function is called at the timeout, to show the state then). */
  what: string | (() => string);
  /** Upper bound in milliseconds. */
  timeoutMs?: number;
  /** Poll period in milliseconds. */
  intervalMs?: number;
}

/** Polls `condition` until it returns a truthy value, which is returned; rejects with "timed out after N ms waiting for <what>". */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${whatOf(options.what)}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The failure message's "what", evaluated now. */
function whatOf(what: WaitOptions['what']): string {
  if (typeof what === 'string') return what;
  try {
    return what();
  } catch (err) {
    return `(describing the state failed: ${(err as Error).message})`;
  }
}

/** Minimal event-source shape accepted by {@link waitForEvent}. */
export interface EventSource {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** Resolves with the first `event` whose payload passes `filter`; rejects naming `what` after the timeout. */
export function waitForEvent<T = unknown>(
  source: EventSource,
  event: string,
  options: WaitOptions & { filter?: (payload: T) => boolean },
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${whatOf(options.what)} (event '${event}')`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (options.filter && !options.filter(payload)) return;
      clearTimeout(timer);
      source.off(event, listener);
      resolve(payload);
    };
    source.on(event, listener);
  });
}

/** Lets the event loop run once (not a wait for anything): long synchronous test loops call it so the test runner's RPC is not starved. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

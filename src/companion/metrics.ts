// Prometheus metrics of the companion (one registry per companion, so several can live in one process: demo, tests).
import { Registry, Gauge, Counter, Histogram, collectDefaultMetrics } from 'prom-client';

/** The companion's metrics; gauges that mirror state are refreshed by the companion before each scrape. */
export class CompanionMetrics {
  /** The registry served at `/metrics`. */
  readonly registry = new Registry();
  readonly friendsOnline: Gauge;
  readonly friendsTotal: Gauge;
  readonly connection: Gauge;
  readonly personas: Gauge<'state'>;
  readonly listsVerified: Counter;
  readonly listsRejected: Counter<'reason'>;
  readonly alarms: Counter<'reason'>;
  readonly publishes: Counter;
  readonly devicesAdded: Counter;
  readonly devicesRemoved: Counter;
  readonly saves: Counter;
  readonly saveFailures: Counter;
  readonly iterateLag: Histogram;
  readonly iterateDuration: Histogram;
  readonly libtoxcore: Gauge<'version'>;
  /** Friend requests waiting, by bucket kind (`persona`: from a device of a persona; `stranger`). */
  readonly requestsPending: Gauge<'from'>;
  /** Friend requests dropped because their bucket was full (persisted, so it survives restarts). */
  readonly requestsDropped: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.friendsOnline = new Gauge({ name: 'tox_persona_friends_online', help: 'Friends currently connected.', registers });
    this.friendsTotal = new Gauge({ name: 'tox_persona_friends', help: 'Friends on the friend list.', registers });
    this.connection = new Gauge({ name: 'tox_persona_self_connection', help: 'Own DHT connection: 0 none, 1 TCP, 2 UDP.', registers });
    this.personas = new Gauge({ name: 'tox_persona_personas', help: 'Personas in the table, by state.', labelNames: ['state'], registers });
    this.listsVerified = new Counter({ name: 'tox_persona_lists_verified_total', help: 'Device lists received from friends that verified.', registers });
    this.listsRejected = new Counter({ name: 'tox_persona_lists_rejected_total', help: 'Device lists received from friends and not applied, by reason: refused as invalid (BAD_SIGNATURE, FUTURE_DATED, ...) or ignored (NOT_A_MEMBER, ROLLBACK, EQUIVOCATION, CONFLICT_STATE).', labelNames: ['reason'], registers });
    this.alarms = new Counter({ name: 'tox_persona_alarms_total', help: 'Alarms raised (rollback, equivocation, conflict...), by reason.', labelNames: ['reason'], registers });
    this.publishes = new Counter({ name: 'tox_persona_publishes_total', help: 'Times our signed device list was (re)published in the status message.', registers });
    this.devicesAdded = new Counter({ name: 'tox_persona_devices_added_total', help: 'Friends added by ourselves because a verified list named them.', registers });
    this.devicesRemoved = new Counter({ name: 'tox_persona_devices_removed_total', help: 'Friends we had added that a newer list dropped.', registers });
    this.saves = new Counter({ name: 'tox_persona_saves_total', help: 'Saves of the data directory (one atomic commit of the files that changed).', registers });
    this.saveFailures = new Counter({ name: 'tox_persona_save_failures_total', help: 'Saves the file system refused (ENOSPC, EROFS, ...); the state stays in memory and the save is retried.', registers });
    // Lag: how long after tox_iteration_interval a turn of the iterate loop began (a busy event loop delays toxcore).
    const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    this.iterateLag = new Histogram({ name: 'tox_persona_iterate_lag_seconds', help: 'How late each tox_iterate turn began, behind tox_iteration_interval.', buckets, registers });
    this.iterateDuration = new Histogram({ name: 'tox_persona_iterate_duration_seconds', help: 'How long each tox_iterate turn took, event handling included.', buckets, registers });
    this.libtoxcore = new Gauge({ name: 'tox_persona_libtoxcore_info', help: 'The libtoxcore version the node runs on, as the label; always 1.', labelNames: ['version'], registers });
    this.requestsPending = new Gauge({ name: 'tox_persona_friend_requests_pending', help: 'Friend requests waiting for accept/decline, by sender: a device of a persona, or a stranger.', labelNames: ['from'], registers });
    this.requestsDropped = new Gauge({ name: 'tox_persona_friend_requests_dropped', help: 'Friend requests dropped because their bucket of the queue was full (older requests are kept); a count kept across restarts.', registers });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tox_persona_' });
  }

  /** Sets the persona-by-state gauge from a count map; series of states missing from the map are removed, so callers pass every state (zeros included). */
  setPersonaCounts(counts: Record<string, number>): void {
    this.personas.reset();
    for (const [state, n] of Object.entries(counts)) this.personas.set({ state }, n);
  }

  /** Sets the libtoxcore info series (one series: a version never changes while the process runs). */
  setLibtoxcoreVersion(version: string): void {
    this.libtoxcore.reset();
    this.libtoxcore.set({ version }, 1);
  }

  /** Called before each scrape to refresh gauges that mirror state (cheaper than keeping them current on every event). */
  refresher: (() => void) | undefined;

  /** Records one turn of the iterate loop (milliseconds in, seconds out, as Prometheus expects). */
  observeIterate(lagMs: number, durationMs: number): void {
    this.iterateLag.observe(lagMs / 1000);
    this.iterateDuration.observe(durationMs / 1000);
  }

  /** Prometheus text; refreshes the state gauges first. */
  async render(): Promise<string> {
    this.refresher?.();
    return this.registry.metrics();
  }

  /** Content type of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

}

import type { Config } from '../config.js';
import type { Metrics } from '../infra/metrics.js';
import type { Logger } from '../logger.js';
import { connectRedis } from '../redis.js';
import type { AccountClient } from '../upstream/account/client.js';
import { AccountEvents } from './account-events.js';
import { MemoryEventBus, RedisEventBus, type EventBus } from './bus.js';

/**
 * `accountEvents` for a gateway: the bus is Redis pub/sub when `REDIS_URL`
 * is set (every instance sees every event of a user), else this process.
 */
export function createAccountEvents(config: Config, account: AccountClient, logger: Logger, metrics?: Metrics): AccountEvents {
  const eventsLogger = logger.child({ component: 'events' });
  let bus: EventBus;
  if (config.REDIS_URL) {
    const connect = (name: string) => connectRedis({ url: config.REDIS_URL!, logger, name, metrics });
    bus = new RedisEventBus(connect('gateway-events-pub'), connect('gateway-events-sub'), config.REDIS_KEY_PREFIX, eventsLogger);
  } else {
    bus = new MemoryEventBus();
  }
  return new AccountEvents({
    bus: metrics ? countedBus(bus, metrics) : bus,
    metrics,
    logger: eventsLogger,
    bufferSize: config.SUBSCRIPTIONS_BUFFER_SIZE,
    dedupeWindowMs: config.SUBSCRIPTIONS_DEDUPE_WINDOW_SECONDS * 1000,
    relay: {
      account,
      heartbeatMs: config.UPSTREAM_PUSH_HEARTBEAT_MS,
      reconnectMinMs: config.UPSTREAM_PUSH_RECONNECT_MIN_MS,
      reconnectMaxMs: Math.max(config.UPSTREAM_PUSH_RECONNECT_MIN_MS, config.UPSTREAM_PUSH_RECONNECT_MAX_MS),
      maxFrameBytes: config.UPSTREAM_MAX_BODY_BYTES,
      sessionCheckMs: config.SUBSCRIPTIONS_SESSION_CHECK_SECONDS * 1000,
    },
  });
}

/** The bus, with its messages counted by direction. */
function countedBus(bus: EventBus, metrics: Metrics): EventBus {
  return {
    publish: (userId, message) => {
      metrics.busMessage('published');
      return bus.publish(userId, message);
    },
    subscribe: (userId, onMessage) =>
      bus.subscribe(userId, (message) => {
        metrics.busMessage('received');
        onMessage(message);
      }),
    close: () => bus.close(),
  };
}

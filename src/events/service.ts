import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { connectRedis } from '../redis.js';
import type { AccountClient } from '../upstream/account/client.js';
import { AccountEvents } from './account-events.js';
import { MemoryEventBus, RedisEventBus, type EventBus } from './bus.js';

/**
 * `accountEvents` for a gateway: the bus is Redis (Streams for each user's
 * log, pub/sub for live delivery) when `REDIS_URL` is set, so every instance
 * sees and can replay every event of a user; else this process.
 */
export function createAccountEvents(config: Config, account: AccountClient, logger: Logger): AccountEvents {
  const eventsLogger = logger.child({ component: 'events' });
  const log = {
    retentionMs: config.SUBSCRIPTIONS_RETENTION_SECONDS * 1000,
    maxEntries: config.SUBSCRIPTIONS_RETENTION_MAX_EVENTS,
    // Upstream ids are remembered as long as the upstream may replay them (its buffer is 5 minutes) and the dedupe window.
    seenMs: Math.max(config.SUBSCRIPTIONS_RETENTION_SECONDS, config.SUBSCRIPTIONS_DEDUPE_WINDOW_SECONDS, 300) * 1000,
  };
  let bus: EventBus;
  if (config.REDIS_URL) {
    const connect = (name: string) => connectRedis({ url: config.REDIS_URL!, logger, name });
    bus = new RedisEventBus(connect('gateway-events-pub'), connect('gateway-events-sub'), config.REDIS_KEY_PREFIX, log, eventsLogger);
  } else {
    bus = new MemoryEventBus(log);
  }
  return new AccountEvents({
    bus,
    logger: eventsLogger,
    sessionFreshMs: config.SUBSCRIPTIONS_SESSION_FRESH_MS,
    admission: {
      concurrency: config.SUBSCRIPTIONS_ADMISSION_CONCURRENCY,
      maxWaiting: config.SUBSCRIPTIONS_ADMISSION_QUEUE,
      deadlineMs: config.SUBSCRIPTIONS_ADMISSION_DEADLINE_MS,
    },
    pushOpensPerSecond: config.UPSTREAM_PUSH_OPENS_PER_SECOND,
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

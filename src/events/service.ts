import type { Config } from '../config.js';
import type { Logger } from '../infra/logger.js';
import { connectRedis } from '../infra/redis.js';
import type { AccountClient } from '../upstream/account/client.js';
import { AccountEvents } from './account-events.js';
import { MemoryEventBus, RedisEventBus, type EventBus } from './bus.js';

/**
 * `accountEvents` for a gateway: the bus is Redis pub/sub when `REDIS_URL`
 * is set (every instance sees every event of a user), else this process.
 */
export function createAccountEvents(config: Config, account: AccountClient, logger: Logger): AccountEvents {
  const eventsLogger = logger.child({ component: 'events' });
  let bus: EventBus;
  if (config.REDIS_URL) {
    const connect = (name: string) => connectRedis({ url: config.REDIS_URL!, logger, name });
    bus = new RedisEventBus(connect('gateway-events-pub'), connect('gateway-events-sub'), config.REDIS_KEY_PREFIX, eventsLogger);
  } else {
    bus = new MemoryEventBus();
  }
  return new AccountEvents({
    bus,
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

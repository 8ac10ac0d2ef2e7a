import type { Logger } from '../../infra/logger.js';
import { Clock } from './clock.js';
import { CodeStore } from './codes.js';
import { EventLog } from './events.js';
import type { Channel } from './formats.js';
import { Overrides } from './overrides.js';
import { PushHub, type PushOptions } from './push.js';
import { SessionStore } from './sessions.js';
import { ExpiringTokens } from './tokens.js';
import { UserStore } from './users.js';

/** A recovery or deletion in progress: whose, and where its code went. */
export interface CodeFlow {
  userId: string;
  channel: Channel;
}

/** Recovery and deletion tokens live an hour (chosen); each code within lives 10 minutes. */
export const FLOW_TOKEN_TTL_MS = 60 * 60 * 1000;
/** Websocket tickets are single-use and live 60 s (shared/UPSTREAM.md §1). */
export const TICKET_TTL_MS = 60 * 1000;

/** Everything the emulator holds in memory, on one clock. */
export class EmulatorState {
  readonly clock = new Clock();
  readonly users = new UserStore();
  readonly codes: CodeStore;
  readonly events: EventLog;
  readonly push: PushHub;
  readonly sessions: SessionStore;
  readonly recoveries = new ExpiringTokens<CodeFlow>(this.clock, FLOW_TOKEN_TTL_MS);
  readonly deletions = new ExpiringTokens<CodeFlow>(this.clock, FLOW_TOKEN_TTL_MS);
  /** Ticket → session token. */
  readonly tickets = new ExpiringTokens<string>(this.clock, TICKET_TTL_MS);
  readonly overrides = new Overrides();

  constructor(
    readonly logger: Logger,
    pushOptions: Omit<PushOptions, 'logger'>,
  ) {
    this.codes = new CodeStore(this.clock, logger);
    this.events = new EventLog(this.clock);
    this.push = new PushHub(this.events, { ...pushOptions, logger });
    this.sessions = new SessionStore(this.clock, (session) => this.push.endSession(session));
  }

  /** Removes a user with everything attached; their sessions end first. */
  deleteUser(userId: string): void {
    this.sessions.endForUser(userId);
    this.codes.forgetUser(userId);
    this.recoveries.dropWhere((flow) => flow.userId === userId);
    this.deletions.dropWhere((flow) => flow.userId === userId);
    this.users.delete(userId);
    this.events.forget(userId);
  }

  /** Forgets everything, drops every socket and sets the clock back. */
  reset(): void {
    this.push.terminateAll();
    for (const store of [this.users, this.codes, this.events, this.sessions, this.recoveries, this.deletions, this.tickets, this.overrides]) {
      store.clear();
    }
    this.clock.reset();
  }
}

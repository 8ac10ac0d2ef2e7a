import { builder } from './builder.js';
import './outcome-types.js';
import './user.js';
import './sign-in.js';
import './registration.js';
import './recovery.js';
import './settings.js';
import './products.js';
import './tracking.js';
import './privacy.js';
import './dating/site.js';
import './dating/create-user.js';
import './dating/join.js';
import './events.js';

/** The gateway's schema: every domain module registers itself on import. */
export const schema = builder.toSchema();

import { ok, type Route } from './api.js';
import type { EmulatorState } from './state.js';
import { isEmail, isLang, isPhone, normalizeEmail, type Channel, type Lang } from './formats.js';
import { InvalidParamError, optBool, optInt, optNullableString, type Body } from './params.js';
import type { ProfileRecord, UserRecord } from './users.js';
import { settingsView } from './views.js';

/**
 * `user/settings/get` and `user/settings/set` (shared/UPSTREAM.md §1 #11, #12).
 * A set is all or nothing: every field is checked before anything changes.
 * A new e-mail/phone only becomes pending (a contact_change code goes to the
 * new address) until `user/auth/verify` confirms it with `code`.
 */

interface SettingsPatch {
  name?: string | null;
  surname?: string | null;
  lang?: Lang;
  profile: Partial<ProfileRecord>;
  restrictions: Array<[number, boolean]>;
  contacts: Partial<Record<Channel, string>>;
}

function readBirthday(body: Body): number | null | undefined {
  const value = body.birthday;
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidParamError('birthday');
  return value;
}

/** Parses the body; a bad e-mail answers 401, a bad phone 402, any other bad field 400. */
function readPatch(body: Body): SettingsPatch | number {
  const contacts: SettingsPatch['contacts'] = {};
  if (body.email !== undefined && body.email !== null) {
    if (!isEmail(body.email)) return 401;
    contacts.email = normalizeEmail(body.email);
  }
  if (body.phone !== undefined && body.phone !== null) {
    if (!isPhone(body.phone)) return 402;
    contacts.phone = body.phone;
  }
  if (body.lang !== undefined && body.lang !== null && !isLang(body.lang)) throw new InvalidParamError('lang');
  const patch: SettingsPatch = { profile: {}, restrictions: [], contacts };
  const name = optNullableString(body, 'first_name');
  const surname = optNullableString(body, 'last_name');
  if (name !== undefined) patch.name = name;
  if (surname !== undefined) patch.surname = surname;
  if (isLang(body.lang)) patch.lang = body.lang;
  const avatar = optNullableString(body, 'avatar');
  const sex = optInt(body, 'sex', -1, 8);
  const news = optBool(body, 'news');
  const birthday = readBirthday(body);
  const datingModel = optNullableString(body, 'dating.model');
  if (avatar !== undefined) patch.profile.avatar = avatar;
  if (sex !== undefined) patch.profile.sex = sex;
  if (news !== undefined) patch.profile.news = news;
  if (birthday !== undefined) patch.profile.birthday = birthday;
  if (datingModel !== undefined) patch.profile.datingModel = datingModel;
  for (let i = 0; i < 5; i += 1) {
    const value = optBool(body, `restriction_${i + 1}`);
    if (value !== undefined) patch.restrictions.push([i, value]);
  }
  return patch;
}

/** Setting the current address cancels a pending change; a new one sends a code (chosen). */
function requestContactChange(state: EmulatorState, user: UserRecord, channel: Channel, address: string): void {
  if (address === user[channel]) {
    user.pending[channel] = null;
    state.codes.discard(user.id, channel, 'contact_change');
    return;
  }
  if (address === user.pending[channel]) return; // already pending: user/auth/code resends
  user.pending[channel] = address;
  state.codes.send(user.id, channel, 'contact_change', address);
}

const getSettings: Route = {
  path: 'user/settings/get',
  session: 'required',
  handle: ({ caller }) => ok(settingsView(caller!.user)),
};

const setSettings: Route = {
  path: 'user/settings/set',
  session: 'required',
  handle({ state, caller, body }) {
    const { user } = caller!;
    const patch = readPatch(body);
    if (typeof patch === 'number') return patch;
    const before = JSON.stringify(settingsView(user));
    if (patch.name !== undefined) user.name = patch.name;
    if (patch.surname !== undefined) user.surname = patch.surname;
    if (patch.lang !== undefined) user.lang = patch.lang;
    Object.assign(user.profile, patch.profile);
    for (const [index, value] of patch.restrictions) user.profile.restrictions[index] = value;
    for (const [channel, address] of Object.entries(patch.contacts) as Array<[Channel, string]>) {
      requestContactChange(state, user, channel, address);
    }
    const after = settingsView(user);
    if (JSON.stringify(after) !== before) state.push.emit(user.id, 'settings.updated', after);
    return ok(after);
  },
};

export const settingsRoutes: readonly Route[] = [getSettings, setSettings];

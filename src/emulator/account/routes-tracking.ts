import { ok, type Route } from './api.js';
import { InvalidParamError } from './params.js';

/**
 * `user/tracking/set` (shared/UPSTREAM.md §1 #16): any of the listed
 * attributes, each checked for its type; none present answers 404. Values
 * are kept on the user (see GET /_emulator/users). `unset_push_device_id`
 * removes that push device id instead of being stored.
 */

const isString = (v: unknown) => typeof v === 'string';
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numbers = (min: number, max: number) => (v: unknown) =>
  Array.isArray(v) && v.length >= min && v.length <= max && v.every(isFiniteNumber);

/** Attribute → check. `location` is [lat, lon] or [lat, lon, alt] (chosen). */
export const TRACKING_FIELDS: Readonly<Record<string, (value: unknown) => boolean>> = {
  webstat_visitor_id: isString,
  webstat_fingerprint_id: isString,
  webstat_session_id: isString,
  webstat_api_handler: isString,
  wifi_mac: isString,
  bluetooth_mac: isString,
  location: numbers(2, 3),
  screen: numbers(2, 2),
  device_id: isString,
  gaid: isString,
  idfa: isString,
  push_device_id: isString,
  unset_push_device_id: isString,
  web_uri: Array.isArray,
  web_event: Array.isArray,
  app_uri: Array.isArray,
  app_event: Array.isArray,
  battery_charge: (v) => Number.isSafeInteger(v),
  provider_name: isString,
  provider_quality: isFiniteNumber,
};

const setTracking: Route = {
  path: 'user/tracking/set',
  session: 'required',
  failData: false,
  handle({ caller, body }) {
    const { tracking } = caller!.user;
    // null counts as absent.
    const given = Object.entries(body).filter(([key, value]) => Object.hasOwn(TRACKING_FIELDS, key) && value !== null && value !== undefined);
    if (given.length === 0) return 404;
    for (const [key, value] of given) if (!TRACKING_FIELDS[key]!(value)) throw new InvalidParamError(key);
    for (const [key, value] of given) {
      if (key !== 'unset_push_device_id') tracking[key] = value;
      else if (tracking.push_device_id === value) delete tracking.push_device_id;
    }
    return ok(true);
  },
};

export const trackingRoutes: readonly Route[] = [setTracking];

import { z } from 'zod';
import { ValidationError } from '../domain/outcomes.js';
import { requireSession } from './context.js';
import type { Tracking } from '../domain/account.js';
import { builder } from './builder.js';
import { runMutation } from './mutation.js';
import { optional, text } from './validation.js';

const LocationInput = builder.inputType('LocationInput', {
  fields: (t) => ({
    latitude: t.float({ required: true, description: '-90 to 90.' }),
    longitude: t.float({ required: true, description: '-180 to 180.' }),
    altitude: t.float({ description: 'Metres.' }),
  }),
});
const ScreenInput = builder.inputType('ScreenInput', {
  fields: (t) => ({ width: t.int({ required: true }), height: t.int({ required: true }) }),
});

const SetTrackingInput = builder.inputType('SetTrackingInput', {
  description: 'Analytics ids and environment data; give at least one field.',
  fields: (t) => ({
    webstatVisitorId: t.string(),
    webstatFingerprintId: t.string(),
    webstatSessionId: t.string(),
    webstatApiHandler: t.string(),
    wifiMac: t.string(),
    bluetoothMac: t.string(),
    location: t.field({ type: LocationInput }),
    screen: t.field({ type: ScreenInput }),
    deviceId: t.string(),
    gaid: t.string({ description: 'Google Advertising ID.' }),
    idfa: t.string({ description: 'Apple Advertising ID.' }),
    pushDeviceId: t.string(),
    unsetPushDeviceId: t.string({ description: 'A push device id to forget.' }),
    webUris: t.stringList(),
    webEvents: t.stringList(),
    appUris: t.stringList(),
    appEvents: t.stringList(),
    batteryCharge: t.int({ description: 'Percent, 0 to 100.' }),
    providerName: t.string({ description: 'Mobile operator or Wi-Fi network.' }),
    providerQuality: t.float({ description: 'Signal quality.' }),
  }),
});

const short = optional(text(256));
const mac = optional(z.string().regex(/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/, 'A MAC address like 00:1A:2B:3C:4D:5E.'));
const list = optional(z.array(z.string().min(1).max(2048)).min(1).max(100));

const trackingInput = z
  .object({
    webstatVisitorId: short,
    webstatFingerprintId: short,
    webstatSessionId: short,
    webstatApiHandler: short,
    wifiMac: mac,
    bluetoothMac: mac,
    location: optional(
      z.object({
        latitude: z.number().min(-90).max(90),
        longitude: z.number().min(-180).max(180),
        altitude: optional(z.number().min(-500).max(100_000)),
      }),
    ),
    screen: optional(z.object({ width: z.number().int().min(1).max(100_000), height: z.number().int().min(1).max(100_000) })),
    deviceId: short,
    gaid: short,
    idfa: short,
    pushDeviceId: optional(text(4096)),
    unsetPushDeviceId: optional(text(4096)),
    webUris: list,
    webEvents: list,
    appUris: list,
    appEvents: list,
    batteryCharge: optional(z.number().int().min(0).max(100)),
    providerName: short,
    providerQuality: optional(z.number().min(0).max(100)),
  })
  .refine((i) => Object.values(i).some((v) => v !== undefined), { message: 'Give at least one tracking field.' });

class TrackingSaved {
  readonly saved = true;
}
const TrackingSavedType = builder.objectType(TrackingSaved, {
  name: 'SetTrackingSuccess',
  isTypeOf: (v) => v instanceof TrackingSaved,
  fields: (t) => ({ saved: t.exposeBoolean('saved') }),
});

builder.mutationField('setTracking', (t) =>
  t.field({
    type: builder.errorUnion('SetTrackingPayload', { types: [TrackingSavedType, ValidationError] }),
    description: 'Saves analytics ids and environment data (user/tracking/set). Needs a session.',
    args: { input: t.arg({ type: SetTrackingInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const session = requireSession(ctx);
      return runMutation(ctx, input, {
        input: trackingInput,
        call: (tracking) => ctx.account.setTracking(session, tracking satisfies Tracking, ctx.deadline),
        success: () => new TrackingSaved(),
      });
    },
  }),
);

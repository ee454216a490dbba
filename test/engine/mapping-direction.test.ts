import { describe, expect, it } from 'vitest';
import { mappingInputSchema } from '../../shared/mapping.js';

const chromeos = (fieldMap: unknown[], entity = 'chromeos') => ({
  name: 'Chromebooks',
  entity,
  identifier: entity === 'chromeos' ? 'deviceId' : 'primaryEmail',
  target: { kind: 'collection', objectId: 'things' },
  fieldMap,
});

const issues = (input: unknown) => {
  const r = mappingInputSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('field-map direction', () => {
  it('defaults to fromGoogle: existing mappings parse unchanged', () => {
    const r = mappingInputSchema.parse(chromeos([{ source: 'deviceId', target: 'deviceId' }]));
    expect(r.fieldMap).toEqual([{ source: 'deviceId', target: 'deviceId' }]);
  });

  it('accepts toGoogle on each writable Chrome OS field', () => {
    const fields = ['annotatedAssetId', 'annotatedLocation', 'annotatedUser', 'notes'];
    expect(issues(chromeos(fields.map((f) => ({ source: f, target: f, direction: 'toGoogle' }))))).toEqual(
      [],
    );
  });

  it('refuses toGoogle on a Chrome OS field Google does not let us write, naming the writable ones', () => {
    expect(issues(chromeos([{ source: 'serialNumber', target: 'serial', direction: 'toGoogle' }]))).toEqual([
      'fieldMap.0.direction: serialNumber cannot be written to Google; writable fields are annotatedAssetId, annotatedLocation, annotatedUser, notes',
    ]);
  });

  it('refuses toGoogle outside Chrome OS mappings', () => {
    expect(
      issues(chromeos([{ source: 'primaryEmail', target: 'email', direction: 'toGoogle' }], 'users')),
    ).toEqual(['fieldMap.0.direction: only Chrome OS device fields can be written back to Google']);
  });

  it('refuses an unknown direction', () => {
    expect(issues(chromeos([{ source: 'notes', target: 'notes', direction: 'both' }]))).toHaveLength(1);
  });
});

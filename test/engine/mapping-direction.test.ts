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
    const fields = [
      'annotatedAssetId',
      'annotatedLocation',
      'annotatedUser',
      'notes',
      'orgUnitPath',
      'orgUnitId',
    ];
    expect(issues(chromeos(fields.map((f) => ({ source: f, target: f, direction: 'toGoogle' }))))).toEqual(
      [],
    );
  });

  it('refuses toGoogle on a Chrome OS field Google does not let us write, naming the writable ones', () => {
    expect(issues(chromeos([{ source: 'serialNumber', target: 'serial', direction: 'toGoogle' }]))).toEqual([
      'fieldMap.0.direction: serialNumber cannot be written to Google; writable fields are annotatedAssetId, annotatedLocation, annotatedUser, notes, orgUnitPath, orgUnitId',
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

describe('notes append template', () => {
  const notes = (extra: Record<string, unknown>) =>
    issues(chromeos([{ source: 'notes', target: 'notes', direction: 'toGoogle', ...extra }]));

  it('accepts a template with {{text}} and the known placeholders', () => {
    expect(notes({ appendTemplate: '{{date}} ({{ by }}): {{text}}' })).toEqual([]);
  });

  it('refuses a template without {{text}} or with an unknown placeholder', () => {
    expect(notes({ appendTemplate: '{{date}} {{by}}' })).toEqual([
      'fieldMap.0.appendTemplate: the template must contain {{text}}',
    ]);
    expect(notes({ appendTemplate: '{{text}} {{serial}}' })).toEqual([
      'fieldMap.0.appendTemplate: placeholders are {{text}}, {{by}}, {{date}}',
    ]);
  });

  it('refuses a template on a field that is not notes written to Google', () => {
    expect(issues(chromeos([{ source: 'notes', target: 'notes', appendTemplate: '{{text}}' }]))).toEqual([
      'fieldMap.0.appendTemplate: only Chrome OS notes written back to Google are appended through a template',
    ]);
    expect(
      issues(
        chromeos([
          { source: 'annotatedUser', target: 'user', direction: 'toGoogle', appendTemplate: '{{text}}' },
        ]),
      ),
    ).toEqual([
      'fieldMap.0.appendTemplate: only Chrome OS notes written back to Google are appended through a template',
    ]);
  });
});

import { Names, rewriteReferences, undoRewrites, type Rewrite } from './rewrite';

describe('rewriteReferences', () => {
  test('replaces mapped strings in objects and arrays, and undoRewrites puts them back', () => {
    const resource = {
      resourceType: 'Observation',
      subject: { reference: 'urn:uuid:p' },
      focus: [{ reference: 'urn:uuid:p' }, { reference: 'urn:uuid:other' }],
      note: [{ text: 'urn:uuid:p' }],
      extension: [{ url: 'x', valueString: 'plain' }],
      list: ['urn:uuid:p', 'kept', 'urn:uuid:q', 'https://ehr.example/Patient/9'],
    };
    const before = JSON.stringify(resource);
    const undo: Rewrite[] = [];
    const names = new Names(
      new Map([
        ['urn:uuid:p', 'Patient/1'],
        ['https://ehr.example/Patient/9', 'Patient/2'],
      ])
    );
    rewriteReferences(resource, names, undo);
    expect(resource.subject.reference).toBe('Patient/1');
    expect(resource.focus.map((f) => f.reference)).toEqual(['Patient/1', 'urn:uuid:other']);
    expect(resource.note[0]?.text).toBe('Patient/1');
    // Names of different lengths are all found; a string of a name's length that is not one is kept.
    expect(resource.list).toEqual(['Patient/1', 'kept', 'urn:uuid:q', 'Patient/2']);
    expect(undo).toHaveLength(5);
    undoRewrites(undo);
    expect(JSON.stringify(resource)).toBe(before);
    expect(undo).toHaveLength(0);
  });
});

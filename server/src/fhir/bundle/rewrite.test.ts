import { rewriteReferences, undoRewrites, type Rewrite } from './rewrite';

describe('rewriteReferences', () => {
  test('replaces mapped strings in objects and arrays, and undoRewrites puts them back', () => {
    const resource = {
      resourceType: 'Observation',
      subject: { reference: 'urn:uuid:p' },
      focus: [{ reference: 'urn:uuid:p' }, { reference: 'urn:uuid:other' }],
      note: [{ text: 'urn:uuid:p' }],
      extension: [{ url: 'x', valueString: 'plain' }],
      list: ['urn:uuid:p', 'kept'],
    };
    const before = JSON.stringify(resource);
    const undo: Rewrite[] = [];
    rewriteReferences(resource, new Map([['urn:uuid:p', 'Patient/1']]), undo);
    expect(resource.subject.reference).toBe('Patient/1');
    expect(resource.focus.map((f) => f.reference)).toEqual(['Patient/1', 'urn:uuid:other']);
    expect(resource.note[0]?.text).toBe('Patient/1');
    expect(resource.list).toEqual(['Patient/1', 'kept']);
    expect(undo).toHaveLength(4);
    undoRewrites(undo);
    expect(JSON.stringify(resource)).toBe(before);
    expect(undo).toHaveLength(0);
  });
});

/** Test support: a lookupSp that numbers (resourceType, code) pairs as it meets them, and can name them back. */
export function spIds(): {
  lookupSp: (resourceType: string, code: string) => number;
  nameOf: (sp: number) => string | undefined;
} {
  const ids = new Map<string, number>();
  const names: string[] = [];
  return {
    lookupSp: (resourceType, code) => {
      const key = `${resourceType}.${code}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = names.push(key);
        ids.set(key, id);
      }
      return id;
    },
    nameOf: (sp) => names[sp - 1],
  };
}

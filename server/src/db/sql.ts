/**
 * The one way SQL is built in Hale: tagged templates that keep text and parameters apart,
 * so no user input is ever concatenated into SQL text. Fragments compose; parameters are
 * renumbered when the final statement is rendered.
 */
export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[]
  ) {}

  /** Renders to pg's `$n` form. */
  toQuery(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = this.render(values);
    return { text, values };
  }

  private render(values: unknown[]): string {
    let text = this.strings[0] ?? '';
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      if (v instanceof Sql) {
        text += v.render(values);
      } else {
        values.push(v);
        text += `$${values.length}`;
      }
      text += this.strings[i + 1] ?? '';
    }
    return text;
  }
}

/** A parameterized fragment: sql`a = ${value}`. Nested Sql values are inlined as fragments. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

/**
 * Trusted SQL text (identifiers and keywords chosen by Hale's code, never by a caller).
 * The `name` must be a plain identifier or keyword list; this is checked to catch misuse.
 */
export function raw(text: string): Sql {
  if (!/^[A-Za-z0-9_ .,()*<>=!:[\]-]*$/.test(text)) {
    throw new Error(`raw SQL text refused: ${text}`);
  }
  return new Sql([text], []);
}

export const empty = new Sql([''], []);

/** Joins fragments with a separator (itself trusted text such as ' AND '). */
export function join(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) {
    return empty;
  }
  const strings: string[] = [''];
  const values: unknown[] = [];
  parts.forEach((p, i) => {
    if (i > 0) {
      strings[strings.length - 1] += separator;
    }
    values.push(p);
    strings.push('');
  });
  return new Sql(strings, values);
}

export function and(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? sql`TRUE` : parts.length === 1 ? (parts[0] as Sql) : sql`(${join(parts, ' AND ')})`;
}

export function or(parts: readonly Sql[]): Sql {
  return parts.length === 0 ? sql`FALSE` : parts.length === 1 ? (parts[0] as Sql) : sql`(${join(parts, ' OR ')})`;
}

import { OperationOutcomeError, badRequest } from '@medplum/core';

export interface JsonBodyOptions {
  /** Maximum number of nested objects/arrays: `{}` has depth 1, `{"a":[]}` depth 2. */
  maxDepth: number;
}

/**
 * Parses a request body strictly. Beyond JSON.parse it rejects duplicate object keys (JSON.parse silently keeps
 * the last one, so two parties could read different values), U+0000 in strings and keys (breaks PostgreSQL
 * text/jsonb), lone UTF-16 surrogates (not representable in UTF-8 storage) and nesting deeper than maxDepth.
 *
 * A validating scanner checks the whole grammar first, so every error names its position; JSON.parse then builds
 * the value, which keeps its semantics for numbers and its safe handling of keys such as "__proto__".
 * Throws OperationOutcomeError(badRequest(...)).
 */
export function parseJsonBody(text: string, options: JsonBodyOptions): unknown {
  if (!isWellFormed(text)) {
    fail(text, firstLoneSurrogate(text), 'Lone UTF-16 surrogate');
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    fail(text, nul, 'NUL character (U+0000)');
  }
  new JsonScanner(text, options.maxDepth).scan();
  try {
    return JSON.parse(text);
  } catch (err) {
    // Only raw control characters inside strings get here; V8's message states their position.
    throw new OperationOutcomeError(badRequest(`Invalid JSON body: ${(err as Error).message}`));
  }
}

/**
 * One open object or array, reused for every container at its depth. keys[0..keyCount) are the keys seen so
 * far (stale entries beyond keyCount are ignored); with the index they also give error paths.
 */
interface Frame {
  isArray: boolean;
  index: number;
  keys: string[];
  keyCount: number;
  keySet: Set<string> | undefined;
}

const SMALL_OBJECT_KEYS = 16;

const CH_TAB = 0x09;
const CH_LF = 0x0a;
const CH_CR = 0x0d;
const CH_SPACE = 0x20;
const CH_QUOTE = 0x22;
const CH_COMMA = 0x2c;
const CH_MINUS = 0x2d;
const CH_PLUS = 0x2b;
const CH_DOT = 0x2e;
const CH_ZERO = 0x30;
const CH_NINE = 0x39;
const CH_COLON = 0x3a;
const CH_LBRACKET = 0x5b;
const CH_RBRACKET = 0x5d;
const CH_UPPER_E = 0x45;
const CH_LOWER_E = 0x65;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;

const HEX4 = /[0-9a-fA-F]{4}/y;
const LITERALS: Record<number, string> = { 0x74: 'true', 0x66: 'false', 0x6e: 'null' };
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

class JsonScanner {
  private pos = 0;
  /** Position of the next backslash at or after the last search start; backslashes are rare, so it is cached. */
  private nextBackslash = -1;
  /** Open containers are frames[0..depth); frames are reused, since a bundle opens many containers but few levels. */
  private readonly frames: Frame[] = [];
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number
  ) {}

  /**
   * One loop, no recursion: V8 inlines the small helpers into it, which matters on multi-megabyte bodies.
   * `expectValue` is true where a value must follow (start, after ':' or ','); otherwise a ',' or a closing
   * bracket of the innermost container (or the end of input at the top level) must follow.
   */
  scan(): void {
    let expectValue = true;
    for (;;) {
      const c = this.skipWhitespace();
      const frame = this.depth > 0 ? this.frames[this.depth - 1] : undefined;
      if (expectValue) {
        expectValue = this.value(c);
      } else if (!frame) {
        if (this.pos < this.text.length) {
          this.error('Unexpected data after the JSON value');
        }
        return;
      } else if (c === CH_COMMA) {
        this.pos++;
        frame.index++;
        if (!frame.isArray) {
          this.skipWhitespace();
          this.member();
        }
        expectValue = true;
      } else if (c === (frame.isArray ? CH_RBRACKET : CH_RBRACE)) {
        this.pos++;
        this.depth--;
      } else {
        this.error(frame.isArray ? "Expected ',' or ']' after an array element" : "Expected ',' or '}' after a value");
      }
    }
  }

  /** Scans a scalar or opens a container at character c; returns whether a value must follow. */
  private value(c: number): boolean {
    if (c === CH_LBRACE || c === CH_LBRACKET) {
      const isArray = c === CH_LBRACKET;
      this.open(isArray);
      if (this.skipWhitespace() === (isArray ? CH_RBRACKET : CH_RBRACE)) {
        this.pos++;
        this.depth--;
        return false;
      }
      if (!isArray) {
        this.member();
      }
      return true;
    }
    if (c === CH_QUOTE) {
      this.string();
    } else if (c === CH_MINUS || isDigit(c)) {
      this.number();
    } else {
      this.literal();
    }
    return false;
  }

  /** `"key":` with the scanner on the opening quote of the key; the value is scanned by the main loop. */
  private member(): void {
    if (this.text.charCodeAt(this.pos) !== CH_QUOTE) {
      this.error('Expected a double-quoted property name');
    }
    const keyStart = this.pos;
    const hasEscape = this.string();
    const key = hasEscape
      ? (JSON.parse(this.text.slice(keyStart, this.pos)) as string)
      : this.text.slice(keyStart + 1, this.pos - 1);
    this.addKey(key, keyStart);
    if (this.skipWhitespace() !== CH_COLON) {
      this.error("Expected ':' after a property name");
    }
    this.pos++;
  }

  private addKey(key: string, position: number): void {
    const frame = this.frames[this.depth - 1] as Frame;
    if (this.hasKey(frame, key)) {
      this.pos = position;
      this.error(`Duplicate object key ${JSON.stringify(key)} at ${this.path(key)}`);
    }
    frame.keys[frame.keyCount++] = key;
    frame.keySet?.add(key);
  }

  /** FHIR objects mostly have a handful of keys, where a linear scan beats building a Set per object. */
  private hasKey(frame: Frame, key: string): boolean {
    const count = frame.keyCount;
    if (count >= SMALL_OBJECT_KEYS) {
      frame.keySet ??= new Set(frame.keys.slice(0, count));
      return frame.keySet.has(key);
    }
    const keys = frame.keys;
    for (let i = 0; i < count; i++) {
      if (keys[i] === key) {
        return true;
      }
    }
    return false;
  }

  private open(isArray: boolean): void {
    const depth = this.depth;
    if (depth >= this.maxDepth) {
      this.error(`Nesting deeper than ${this.maxDepth} levels`);
    }
    const frame = (this.frames[depth] ??= { isArray, index: 0, keys: [], keyCount: 0, keySet: undefined });
    frame.isArray = isArray;
    frame.index = 0;
    frame.keyCount = 0;
    frame.keySet = undefined;
    this.depth++;
    this.pos++;
  }

  /**
   * Scans a string starting at its opening quote; returns whether it contained escapes. Quotes and backslashes
   * are found with indexOf (native speed); raw control characters inside strings are left to JSON.parse, whose
   * error for them states the position.
   */
  private string(): boolean {
    const text = this.text;
    let hasEscape = false;
    let from = this.pos + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) {
        this.pos = text.length;
        this.error('Unterminated string');
      }
      if (this.nextBackslash < from) {
        const found = text.indexOf('\\', from);
        this.nextBackslash = found === -1 ? Infinity : found;
      }
      if (this.nextBackslash > quote) {
        this.pos = quote + 1;
        return hasEscape;
      }
      hasEscape = true;
      this.pos = this.nextBackslash;
      this.escape();
      from = this.pos;
    }
  }

  /** Validates one escape sequence, rejecting \u0000 and surrogate escapes that do not form a pair. */
  private escape(): void {
    const next = this.text[this.pos + 1] ?? '';
    if (next !== 'u') {
      if (!SIMPLE_ESCAPES.has(next)) {
        this.error('Invalid escape sequence in a string');
      }
      this.pos += 2;
      return;
    }
    const unit = this.hex4(this.pos + 2);
    if (unit === 0) {
      this.error('NUL character (\\u0000) in a string');
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      this.error('Lone UTF-16 surrogate escape in a string');
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = this.text.startsWith('\\u', this.pos + 6) ? this.hex4(this.pos + 8) : -1;
      if (low < 0xdc00 || low > 0xdfff) {
        this.error('Lone UTF-16 surrogate escape in a string');
      }
      this.pos += 6;
    }
    this.pos += 6;
  }

  private hex4(at: number): number {
    HEX4.lastIndex = at;
    if (!HEX4.test(this.text)) {
      this.pos = at;
      this.error('Invalid \\u escape in a string');
    }
    return Number.parseInt(this.text.slice(at, at + 4), 16);
  }

  private number(): void {
    const end = numberEnd(this.text, this.pos);
    if (end <= 0) {
      this.pos = -end;
      this.error('Invalid number');
    }
    this.pos = end;
  }

  private literal(): void {
    const word = LITERALS[this.text.charCodeAt(this.pos)];
    if (word === undefined || !this.text.startsWith(word, this.pos)) {
      this.error(this.pos >= this.text.length ? 'Unexpected end of input' : 'Unexpected character');
    }
    this.pos += word.length;
  }

  /** Skips JSON whitespace and returns the character code at the new position (NaN at the end). */
  private skipWhitespace(): number {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (c === CH_SPACE || c === CH_LF || c === CH_CR || c === CH_TAB) {
      c = text.charCodeAt(++pos);
    }
    this.pos = pos;
    return c;
  }

  /** JSONPath-like location of a key in the innermost object, e.g. $.entry[3].resource.status. */
  private path(key: string): string {
    let path = '$';
    for (let i = 0; i < this.depth; i++) {
      const frame = this.frames[i] as Frame;
      const child = i === this.depth - 1 ? key : frame.keys[frame.keyCount - 1];
      path += frame.isArray ? `[${frame.index}]` : pathSegment(child ?? '');
    }
    return path;
  }

  private error(message: string): never {
    fail(this.text, this.pos, message);
  }
}

/**
 * Scans the JSON number grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? from pos. Returns the end position,
 * or minus the position of the offending character. A digit, '.' or exponent right after a complete number
 * ('01', '1.', '1e') is reported as part of the number rather than as junk after it.
 */
function numberEnd(text: string, pos: number): number {
  let p = pos;
  if (text.charCodeAt(p) === CH_MINUS) {
    p++;
  }
  if (text.charCodeAt(p) === CH_ZERO) {
    p++;
  } else {
    const start = p;
    p = digitsEnd(text, p);
    if (p === start) {
      return -p;
    }
  }
  if (text.charCodeAt(p) === CH_DOT) {
    const start = ++p;
    p = digitsEnd(text, p);
    if (p === start) {
      return -p;
    }
  }
  let c = text.charCodeAt(p);
  if (c === CH_LOWER_E || c === CH_UPPER_E) {
    c = text.charCodeAt(++p);
    if (c === CH_PLUS || c === CH_MINUS) {
      p++;
    }
    const start = p;
    p = digitsEnd(text, p);
    if (p === start) {
      return -p;
    }
  }
  c = text.charCodeAt(p);
  return isDigit(c) || c === CH_DOT || c === CH_LOWER_E || c === CH_UPPER_E ? -p : p;
}

function digitsEnd(text: string, pos: number): number {
  let p = pos;
  while (isDigit(text.charCodeAt(p))) {
    p++;
  }
  return p;
}

function isDigit(c: number): boolean {
  return c >= CH_ZERO && c <= CH_NINE;
}

function pathSegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** String.prototype.isWellFormed is native since Node 20 but missing from the project's ES2023 lib typings. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return 0;
}

function fail(text: string, position: number, message: string): never {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  throw new OperationOutcomeError(
    badRequest(`Invalid JSON body: ${message} at position ${position} (line ${line}, column ${column})`)
  );
}

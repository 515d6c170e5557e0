/**
 * Embedded name and place lists. Some entries deliberately carry diacritics (José, Zoë, Müller,
 * Nguyễn), apostrophes (O'Brien) or hyphens so that string search, sorting and accent-insensitive
 * matching in the server get exercised by ordinary test data. The tables are kept in compact rows
 * (prettier-ignore): one name per line would bury the code in hundreds of lines.
 */

// prettier-ignore
export const MALE_GIVEN_NAMES: readonly string[] = [
  'James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas', 'Charles',
  'Daniel', 'Matthew', 'Anthony', 'Mark', 'Steven', 'Andrew', 'Joshua', 'Kevin', 'Brian', 'George',
  'Timothy', 'Ryan', 'Jacob', 'Nicholas', 'Eric', 'Jonathan', 'Samuel', 'Benjamin', 'Ethan', 'Noah',
  'Liam', 'Lucas', 'Mateo', 'Omar', 'Hiroshi', 'Wei', 'Arjun', 'Kwame', 'Dmitri', 'Sean',
  'José', 'André', 'François', 'Jürgen', 'Björn', 'Søren', 'Łukasz', 'Ángel', 'Raphaël', 'Jérôme',
];

// prettier-ignore
export const FEMALE_GIVEN_NAMES: readonly string[] = [
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen',
  'Lisa', 'Nancy', 'Betty', 'Sandra', 'Ashley', 'Emily', 'Michelle', 'Amanda', 'Melissa', 'Rebecca',
  'Laura', 'Olivia', 'Emma', 'Ava', 'Sophia', 'Isabella', 'Mia', 'Charlotte', 'Amelia', 'Harper',
  'Priya', 'Mei', 'Yuki', 'Fatima', 'Amara', 'Ingrid', 'Siobhan', 'Aisha', 'Lucía', 'María',
  'Zoë', 'Chloé', 'Renée', 'Noémie', 'Ana', 'Inés', 'Małgorzata', 'Åsa', 'Héloïse', 'Begoña',
];

// prettier-ignore
export const FAMILY_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor',
  'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis',
  'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Hill', 'Green', 'Adams',
  'Baker', 'Nelson', 'Carter', 'Mitchell', 'Roberts', 'Turner', 'Phillips', 'Campbell', 'Parker', 'Evans',
  'Kim', 'Patel', 'Chen', 'Wang', 'Singh', 'Tanaka', 'Okafor', 'Ivanova', 'Kowalski', 'Cohen',
  'García', 'Rodríguez', 'Martínez', 'Hernández', 'López', 'González', 'Pérez', 'Sánchez', 'Núñez', 'Gómez',
  'Müller', 'Schröder', 'Fischer', 'Weiß', 'Lefèvre', 'Bélanger', 'Jørgensen', 'Åkesson', 'Nguyễn', 'Trần',
  "O'Brien", "O'Connor", 'McAllister', 'Smith-Jones', 'van der Berg', 'De La Cruz', 'Dubois', 'Rossi', 'Ferreira', 'Silva',
];

// prettier-ignore
export const STREET_NAMES: readonly string[] = [
  'Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Pine Rd', 'Washington Blvd', 'Lake Shore Dr',
  'Park Ave', 'Highland Ave', 'Sunset Blvd', 'River Rd', 'Church St', 'Mill Rd', 'Chestnut St', 'Willow Way',
  'Calle Ocho', 'Avenida del Sol', 'Rue Saint-Jacques', 'Camino Real', 'Harbor View Ct', 'Prospect St',
];

export interface City {
  readonly name: string;
  readonly state: string;
  /** First three digits of the ZIP code, so postal codes look plausible for the city. */
  readonly zipPrefix: string;
  /**
   * Standard-time UTC offset in minutes. Daylight saving is ignored on purpose: a fixed offset per
   * patient keeps output independent of tz databases while still producing non-UTC timestamps.
   */
  readonly utcOffset: number;
}

export const CITIES: readonly City[] = [
  { name: 'Boston', state: 'MA', zipPrefix: '021', utcOffset: -300 },
  { name: 'Worcester', state: 'MA', zipPrefix: '016', utcOffset: -300 },
  { name: 'Albany', state: 'NY', zipPrefix: '122', utcOffset: -300 },
  { name: 'Buffalo', state: 'NY', zipPrefix: '142', utcOffset: -300 },
  { name: 'Philadelphia', state: 'PA', zipPrefix: '191', utcOffset: -300 },
  { name: 'Pittsburgh', state: 'PA', zipPrefix: '152', utcOffset: -300 },
  { name: 'Atlanta', state: 'GA', zipPrefix: '303', utcOffset: -300 },
  { name: 'Miami', state: 'FL', zipPrefix: '331', utcOffset: -300 },
  { name: 'Orlando', state: 'FL', zipPrefix: '328', utcOffset: -300 },
  { name: 'Chicago', state: 'IL', zipPrefix: '606', utcOffset: -360 },
  { name: 'Springfield', state: 'IL', zipPrefix: '627', utcOffset: -360 },
  { name: 'Minneapolis', state: 'MN', zipPrefix: '554', utcOffset: -360 },
  { name: 'Austin', state: 'TX', zipPrefix: '787', utcOffset: -360 },
  { name: 'Houston', state: 'TX', zipPrefix: '770', utcOffset: -360 },
  { name: 'San Antonio', state: 'TX', zipPrefix: '782', utcOffset: -360 },
  { name: 'Denver', state: 'CO', zipPrefix: '802', utcOffset: -420 },
  { name: 'Cañon City', state: 'CO', zipPrefix: '812', utcOffset: -420 },
  { name: 'Española', state: 'NM', zipPrefix: '875', utcOffset: -420 },
  { name: 'Phoenix', state: 'AZ', zipPrefix: '850', utcOffset: -420 },
  { name: 'Tucson', state: 'AZ', zipPrefix: '857', utcOffset: -420 },
  { name: 'Los Angeles', state: 'CA', zipPrefix: '900', utcOffset: -480 },
  { name: 'San Diego', state: 'CA', zipPrefix: '921', utcOffset: -480 },
  { name: 'Sacramento', state: 'CA', zipPrefix: '958', utcOffset: -480 },
  { name: 'Seattle', state: 'WA', zipPrefix: '981', utcOffset: -480 },
  { name: 'Portland', state: 'OR', zipPrefix: '972', utcOffset: -480 },
  { name: 'Honolulu', state: 'HI', zipPrefix: '968', utcOffset: -600 },
];

/** Letters that Unicode normalisation does not decompose into base letter + combining mark. */
const UNDECOMPOSABLE: Readonly<Record<string, string>> = { ł: 'l', Ł: 'L', ø: 'o', Ø: 'O', ß: 'ss', æ: 'ae', Æ: 'AE' };

/** ASCII-folds a name for use in e-mail addresses (José Núñez → jose.nunez). */
export function asciiFold(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[łŁøØßæÆ]/g, (ch) => UNDECOMPOSABLE[ch] ?? '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

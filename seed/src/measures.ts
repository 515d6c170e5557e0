/**
 * LOINC definitions of the vital signs and laboratory analytes, with UCUM units, display
 * precision, reference ranges and the healthy-population distribution values are drawn from.
 */
import { loinc, type Concept } from './codes';

export interface QuantityDefinition {
  readonly concept: Concept;
  /** Human-readable unit; `ucum` is the code searched on. */
  readonly unit: string;
  readonly ucum: string;
  readonly decimals: number;
}

export type VitalKey =
  'bloodPressure' | 'heartRate' | 'respiratoryRate' | 'temperature' | 'oxygenSaturation' | 'weight' | 'height' | 'bmi';

const quantity = (concept: Concept, unit: string, ucum: string, decimals: number): QuantityDefinition => ({
  concept,
  unit,
  ucum,
  decimals,
});

export const VITALS: Readonly<Record<Exclude<VitalKey, 'bloodPressure'>, QuantityDefinition>> = {
  heartRate: quantity(loinc('8867-4', 'Heart rate'), '/min', '/min', 0),
  respiratoryRate: quantity(loinc('9279-1', 'Respiratory rate'), '/min', '/min', 0),
  temperature: quantity(loinc('8310-5', 'Body temperature'), 'Cel', 'Cel', 1),
  oxygenSaturation: quantity(loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'), '%', '%', 0),
  weight: quantity(loinc('29463-7', 'Body weight'), 'kg', 'kg', 1),
  height: quantity(loinc('8302-2', 'Body height'), 'cm', 'cm', 1),
  bmi: quantity(loinc('39156-5', 'Body mass index (BMI) [Ratio]'), 'kg/m2', 'kg/m2', 1),
};

/** Pulse-oximetry readings also carry the generic SpO2 code, as the R4 vital-signs profile asks. */
export const OXYGEN_SATURATION_GENERIC = loinc('2708-6', 'Oxygen saturation in Arterial blood');

export const BLOOD_PRESSURE = {
  panel: loinc('85354-9', 'Blood pressure panel with all children optional'),
  systolic: quantity(loinc('8480-6', 'Systolic blood pressure'), 'mm[Hg]', 'mm[Hg]', 0),
  diastolic: quantity(loinc('8462-4', 'Diastolic blood pressure'), 'mm[Hg]', 'mm[Hg]', 0),
} as const;

export type AnalyteKey =
  | 'glucose'
  | 'hba1c'
  | 'cholesterol'
  | 'hdl'
  | 'ldl'
  | 'triglycerides'
  | 'hemoglobin'
  | 'wbc'
  | 'rbc'
  | 'hematocrit'
  | 'platelets'
  | 'creatinine'
  | 'bun'
  | 'sodium'
  | 'potassium'
  | 'chloride'
  | 'co2'
  | 'calcium'
  | 'albumin'
  | 'protein'
  | 'alt'
  | 'ast'
  | 'bilirubin'
  | 'alkalinePhosphatase';

export interface Range {
  readonly low?: number;
  readonly high?: number;
}

export interface AnalyteDefinition extends QuantityDefinition {
  readonly range: { readonly male: Range; readonly female: Range };
  /** Healthy-population mean and between-person sd; each draw adds `noise` (within-person sd). */
  readonly mean: { readonly male: number; readonly female: number };
  readonly sd: number;
  readonly noise: number;
}

const analyte = (
  code: string,
  display: string,
  [unit, decimals]: [string, number],
  [male, female]: [Range, Range],
  [maleMean, femaleMean, sd, noise]: [number, number, number, number]
): AnalyteDefinition => ({
  ...quantity(loinc(code, display), unit, unit, decimals),
  range: { male, female },
  mean: { male: maleMean, female: femaleMean },
  sd,
  noise,
});

const both = (range: Range): [Range, Range] => [range, range];

export const ANALYTES: Readonly<Record<AnalyteKey, AnalyteDefinition>> = {
  glucose: analyte(
    '2339-0',
    'Glucose [Mass/volume] in Blood',
    ['mg/dL', 0],
    both({ low: 70, high: 99 }),
    [88, 86, 6, 6]
  ),
  hba1c: analyte(
    '4548-4',
    'Hemoglobin A1c/Hemoglobin.total in Blood',
    ['%', 1],
    both({ low: 4, high: 5.6 }),
    [5.2, 5.1, 0.25, 0.1]
  ),
  cholesterol: analyte(
    '2093-3',
    'Cholesterol [Mass/volume] in Serum or Plasma',
    ['mg/dL', 0],
    both({ high: 200 }),
    [190, 192, 30, 8]
  ),
  hdl: analyte(
    '2085-9',
    'Cholesterol in HDL [Mass/volume] in Serum or Plasma',
    ['mg/dL', 0],
    [{ low: 40 }, { low: 50 }],
    [48, 58, 8, 3]
  ),
  ldl: analyte(
    '18262-6',
    'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay',
    ['mg/dL', 0],
    both({ high: 100 }),
    [105, 102, 18, 6]
  ),
  triglycerides: analyte(
    '2571-8',
    'Triglyceride [Mass/volume] in Serum or Plasma',
    ['mg/dL', 0],
    both({ high: 150 }),
    [120, 105, 30, 15]
  ),
  hemoglobin: analyte(
    '718-7',
    'Hemoglobin [Mass/volume] in Blood',
    ['g/dL', 1],
    [
      { low: 13.5, high: 17.5 },
      { low: 12, high: 15.5 },
    ],
    [15.2, 13.6, 0.8, 0.3]
  ),
  wbc: analyte(
    '6690-2',
    'Leukocytes [#/volume] in Blood by Automated count',
    ['10*3/uL', 1],
    both({ low: 4.5, high: 11 }),
    [7, 7, 1.2, 0.8]
  ),
  rbc: analyte(
    '789-8',
    'Erythrocytes [#/volume] in Blood by Automated count',
    ['10*6/uL', 2],
    [
      { low: 4.5, high: 5.9 },
      { low: 4.1, high: 5.1 },
    ],
    [5.1, 4.5, 0.25, 0.1]
  ),
  hematocrit: analyte(
    '4544-3',
    'Hematocrit [Volume Fraction] of Blood by Automated count',
    ['%', 1],
    [
      { low: 41, high: 53 },
      { low: 36, high: 46 },
    ],
    [45, 40.5, 2, 1]
  ),
  platelets: analyte(
    '777-3',
    'Platelets [#/volume] in Blood by Automated count',
    ['10*3/uL', 0],
    both({ low: 150, high: 400 }),
    [250, 265, 45, 15]
  ),
  creatinine: analyte(
    '2160-0',
    'Creatinine [Mass/volume] in Serum or Plasma',
    ['mg/dL', 2],
    [
      { low: 0.74, high: 1.35 },
      { low: 0.59, high: 1.04 },
    ],
    [1, 0.8, 0.12, 0.05]
  ),
  bun: analyte(
    '3094-0',
    'Urea nitrogen [Mass/volume] in Serum or Plasma',
    ['mg/dL', 0],
    both({ low: 7, high: 20 }),
    [14, 12, 3, 2]
  ),
  sodium: analyte(
    '2951-2',
    'Sodium [Moles/volume] in Serum or Plasma',
    ['mmol/L', 0],
    both({ low: 135, high: 145 }),
    [140, 140, 1.5, 1.2]
  ),
  potassium: analyte(
    '2823-3',
    'Potassium [Moles/volume] in Serum or Plasma',
    ['mmol/L', 1],
    both({ low: 3.5, high: 5.1 }),
    [4.2, 4.2, 0.25, 0.2]
  ),
  chloride: analyte(
    '2075-0',
    'Chloride [Moles/volume] in Serum or Plasma',
    ['mmol/L', 0],
    both({ low: 98, high: 107 }),
    [102, 102, 1.5, 1.2]
  ),
  co2: analyte(
    '2028-9',
    'Carbon dioxide, total [Moles/volume] in Serum or Plasma',
    ['mmol/L', 0],
    both({ low: 23, high: 29 }),
    [26, 25.5, 1.2, 1]
  ),
  calcium: analyte(
    '17861-6',
    'Calcium [Mass/volume] in Serum or Plasma',
    ['mg/dL', 1],
    both({ low: 8.6, high: 10.3 }),
    [9.5, 9.4, 0.3, 0.2]
  ),
  albumin: analyte(
    '1751-7',
    'Albumin [Mass/volume] in Serum or Plasma',
    ['g/dL', 1],
    both({ low: 3.5, high: 5 }),
    [4.3, 4.2, 0.25, 0.15]
  ),
  protein: analyte(
    '2885-2',
    'Protein [Mass/volume] in Serum or Plasma',
    ['g/dL', 1],
    both({ low: 6, high: 8.3 }),
    [7.1, 7.1, 0.4, 0.2]
  ),
  alt: analyte(
    '1742-6',
    'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    ['U/L', 0],
    both({ low: 7, high: 56 }),
    [28, 21, 8, 5]
  ),
  ast: analyte(
    '1920-8',
    'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    ['U/L', 0],
    both({ low: 10, high: 40 }),
    [24, 20, 5, 4]
  ),
  bilirubin: analyte(
    '1975-2',
    'Bilirubin.total [Mass/volume] in Serum or Plasma',
    ['mg/dL', 1],
    both({ low: 0.1, high: 1.2 }),
    [0.7, 0.55, 0.2, 0.1]
  ),
  alkalinePhosphatase: analyte(
    '6768-6',
    'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma',
    ['U/L', 0],
    both({ low: 44, high: 147 }),
    [80, 75, 18, 8]
  ),
};

export type PanelKey = 'cmp' | 'bmp' | 'lipid' | 'cbc' | 'hba1c';

export interface PanelDefinition {
  readonly concept: Concept;
  readonly analytes: readonly AnalyteKey[];
}

const BMP_ANALYTES: readonly AnalyteKey[] = [
  'glucose',
  'bun',
  'creatinine',
  'sodium',
  'potassium',
  'chloride',
  'co2',
  'calcium',
];

export const PANELS: Readonly<Record<PanelKey, PanelDefinition>> = {
  cmp: {
    concept: loinc('24323-8', 'Comprehensive metabolic 2000 panel - Serum or Plasma'),
    analytes: [...BMP_ANALYTES, 'albumin', 'protein', 'alt', 'ast', 'bilirubin', 'alkalinePhosphatase'],
  },
  bmp: { concept: loinc('51990-0', 'Basic metabolic panel - Blood'), analytes: BMP_ANALYTES },
  lipid: {
    concept: loinc('57698-3', 'Lipid panel with direct LDL - Serum or Plasma'),
    analytes: ['cholesterol', 'triglycerides', 'hdl', 'ldl'],
  },
  cbc: {
    concept: loinc('58410-2', 'CBC panel - Blood by Automated count'),
    analytes: ['wbc', 'rbc', 'hemoglobin', 'hematocrit', 'platelets'],
  },
  hba1c: { concept: loinc('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'), analytes: ['hba1c'] },
};

/** Resources one panel adds to a bundle: the DiagnosticReport plus one Observation per analyte. */
export function panelSize(panel: PanelKey): number {
  return PANELS[panel].analytes.length + 1;
}

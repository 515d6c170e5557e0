/**
 * Code systems and the clinical vocabulary the generator draws from: real SNOMED CT, RxNorm, CVX
 * and LOINC codes (with their official displays) so that terminology-aware searches and UIs see
 * the same codes they would meet in production data.
 */
import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

export const SYSTEM = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  cvx: 'http://hl7.org/fhir/sid/cvx',
  ucum: 'http://unitsofmeasure.org',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  ssn: 'http://hl7.org/fhir/sid/us-ssn',
  mrn: 'http://hale.example.org/fhir/sid/mrn',
  nucc: 'http://nucc.org/provider-taxonomy',
  bcp47: 'urn:ietf:bcp:47',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  diagnosticServiceSection: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  diagnosisRole: 'http://terminology.hl7.org/CodeSystem/diagnosis-role',
  maritalStatus: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  medicationRequestCategory: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
  appointmentType: 'http://terminology.hl7.org/CodeSystem/v2-0276',
} as const;

export interface Concept {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export function coding(concept: Concept): Coding {
  return { system: concept.system, code: concept.code, display: concept.display };
}

export function codeable(concept: Concept, text: string = concept.display): CodeableConcept {
  return { coding: [coding(concept)], text };
}

const snomed = (code: string, display: string): Concept => ({ system: SYSTEM.snomed, code, display });
const rxnorm = (code: string, display: string): Concept => ({ system: SYSTEM.rxnorm, code, display });
const cvx = (code: string, display: string): Concept => ({ system: SYSTEM.cvx, code, display });
export const loinc = (code: string, display: string): Concept => ({ system: SYSTEM.loinc, code, display });

export interface Medication {
  readonly concept: Concept;
  readonly instructions: string;
  /** Doses per day; undefined for as-needed medications. */
  readonly perDay?: number;
  readonly route: 'oral' | 'inhaled';
}

export const ROUTES: Readonly<Record<Medication['route'], Concept>> = {
  oral: snomed('26643006', 'Oral route'),
  inhaled: snomed('447694001', 'Respiratory tract route (qualifier value)'),
};

const med = (concept: Concept, instructions: string, perDay?: number, route: Medication['route'] = 'oral') =>
  ({ concept, instructions, perDay, route }) satisfies Medication;

export const MEDS = {
  metformin500: med(
    rxnorm('860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet'),
    'Take 1 tablet by mouth once daily with the evening meal',
    1
  ),
  metformin1000: med(
    rxnorm('861004', 'metformin hydrochloride 1000 MG Oral Tablet'),
    'Take 1 tablet by mouth twice daily with meals',
    2
  ),
  lisinopril: med(rxnorm('314076', 'lisinopril 10 MG Oral Tablet'), 'Take 1 tablet by mouth once daily', 1),
  amlodipine: med(rxnorm('197361', 'amlodipine 5 MG Oral Tablet'), 'Take 1 tablet by mouth once daily', 1),
  hydrochlorothiazide: med(
    rxnorm('310798', 'hydrochlorothiazide 25 MG Oral Tablet'),
    'Take 1 tablet by mouth every morning',
    1
  ),
  atorvastatin: med(rxnorm('617312', 'atorvastatin 10 MG Oral Tablet'), 'Take 1 tablet by mouth at bedtime', 1),
  simvastatin: med(rxnorm('312961', 'simvastatin 20 MG Oral Tablet'), 'Take 1 tablet by mouth in the evening', 1),
  albuterol: med(
    rxnorm('745679', '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'),
    'Inhale 2 puffs every 4 to 6 hours as needed for wheezing or shortness of breath',
    undefined,
    'inhaled'
  ),
  fluticasone: med(
    rxnorm('895994', '120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler'),
    'Inhale 2 puffs twice daily; rinse mouth after use',
    2,
    'inhaled'
  ),
  amoxicillin: med(
    rxnorm('308182', 'amoxicillin 250 MG Oral Capsule'),
    'Take 2 capsules by mouth three times daily for 10 days',
    3
  ),
  amoxicillinClavulanate: med(
    rxnorm('562251', 'amoxicillin 250 MG / clavulanate 125 MG Oral Tablet'),
    'Take 1 tablet by mouth every 8 hours for 7 days',
    3
  ),
  penicillinV: med(
    rxnorm('834061', 'penicillin V potassium 250 MG Oral Tablet'),
    'Take 2 tablets by mouth twice daily for 10 days',
    2
  ),
  acetaminophen: med(
    rxnorm('313782', 'acetaminophen 325 MG Oral Tablet'),
    'Take 2 tablets by mouth every 6 hours as needed for pain or fever (max 8 tablets a day)'
  ),
  ibuprofen: med(
    rxnorm('310965', 'ibuprofen 200 MG Oral Tablet'),
    'Take 2 tablets by mouth every 6 to 8 hours as needed for pain, with food'
  ),
  aspirin: med(rxnorm('243670', 'aspirin 81 MG Oral Tablet'), 'Take 1 tablet by mouth once daily', 1),
} satisfies Record<string, Medication>;

/** Antibiotics a penicillin-allergic patient must not be prescribed. */
export const PENICILLINS: ReadonlySet<Medication> = new Set([
  MEDS.amoxicillin,
  MEDS.amoxicillinClavulanate,
  MEDS.penicillinV,
]);

export const CARE_PLAN_CATEGORY = snomed('734163000', 'Care plan');

export type ChronicKind = 'hypertension' | 'diabetes' | 'hyperlipidemia' | 'asthma' | 'obesity';

export interface GoalTarget {
  readonly description: string;
  readonly measure: Concept;
  readonly comparator: '<' | '<=' | '>=' | '>';
  readonly value: number;
  readonly unit: string;
  readonly ucum: string;
}

export interface ChronicDefinition {
  readonly kind: ChronicKind;
  readonly condition: Concept;
  /** Alternative first-line therapies; one is chosen per patient (none for obesity). */
  readonly therapies: readonly (readonly Medication[])[];
  /** A second-line drug the patient may have been switched to, the first one being stopped. */
  readonly escalation?: Medication;
  readonly carePlan: Concept;
  readonly activities: readonly Concept[];
  readonly goal: GoalTarget;
}

export const CHRONIC: Readonly<Record<ChronicKind, ChronicDefinition>> = {
  hypertension: {
    kind: 'hypertension',
    condition: snomed('38341003', 'Hypertensive disorder, systemic arterial (disorder)'),
    therapies: [[MEDS.lisinopril], [MEDS.amlodipine], [MEDS.hydrochlorothiazide]],
    escalation: MEDS.lisinopril,
    carePlan: snomed('443402002', 'Lifestyle education regarding hypertension (procedure)'),
    activities: [
      snomed('386463000', 'Prescribed activity/exercise education (procedure)'),
      snomed('413473000', 'Counseling about alcohol consumption (procedure)'),
    ],
    goal: {
      description: 'Systolic blood pressure below 140 mm[Hg]',
      measure: loinc('8480-6', 'Systolic blood pressure'),
      comparator: '<',
      value: 140,
      unit: 'mm[Hg]',
      ucum: 'mm[Hg]',
    },
  },
  diabetes: {
    kind: 'diabetes',
    condition: snomed('44054006', 'Diabetes mellitus type 2 (disorder)'),
    therapies: [[MEDS.metformin500]],
    escalation: MEDS.metformin1000,
    carePlan: snomed('698360004', 'Diabetes self management plan'),
    activities: [snomed('160670007', 'Diabetic diet'), snomed('229065009', 'Exercise therapy')],
    goal: {
      description: 'Hemoglobin A1c below 7 %',
      measure: loinc('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood'),
      comparator: '<',
      value: 7,
      unit: '%',
      ucum: '%',
    },
  },
  hyperlipidemia: {
    kind: 'hyperlipidemia',
    condition: snomed('55822004', 'Hyperlipidemia (disorder)'),
    therapies: [[MEDS.atorvastatin], [MEDS.simvastatin]],
    escalation: MEDS.atorvastatin,
    carePlan: snomed('736285004', 'Hyperlipidemia clinical management plan (record artifact)'),
    activities: [snomed('226234005', 'Healthy diet'), snomed('229065009', 'Exercise therapy')],
    goal: {
      description: 'LDL cholesterol below 100 mg/dL',
      measure: loinc('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay'),
      comparator: '<',
      value: 100,
      unit: 'mg/dL',
      ucum: 'mg/dL',
    },
  },
  asthma: {
    kind: 'asthma',
    condition: snomed('195967001', 'Asthma (disorder)'),
    therapies: [[MEDS.albuterol], [MEDS.albuterol, MEDS.fluticasone]],
    carePlan: snomed('699728000', 'Asthma self management'),
    activities: [snomed('710081004', 'Smoking cessation therapy'), snomed('708409001', 'Home nebulizer therapy')],
    goal: {
      description: 'Keep oxygen saturation at or above 95 %',
      measure: loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'),
      comparator: '>=',
      value: 95,
      unit: '%',
      ucum: '%',
    },
  },
  obesity: {
    kind: 'obesity',
    condition: snomed('162864005', 'Body mass index 30+ - obesity (finding)'),
    therapies: [],
    carePlan: snomed('734163000', 'Care plan'),
    activities: [snomed('226234005', 'Healthy diet'), snomed('229065009', 'Exercise therapy')],
    goal: {
      description: 'Body mass index below 30 kg/m2',
      measure: loinc('39156-5', 'Body mass index (BMI) [Ratio]'),
      comparator: '<',
      value: 30,
      unit: 'kg/m2',
      ucum: 'kg/m2',
    },
  },
};

export interface AcuteDefinition {
  readonly condition: Concept;
  readonly setting: 'clinic' | 'emergency';
  /** Candidate treatments; null means "no prescription" is a possible outcome. */
  readonly treatments: readonly (Medication | null)[];
  readonly minDays: number;
  readonly maxDays: number;
  /** Respiratory illnesses lower SpO2 and raise temperature at the visit. */
  readonly febrile: boolean;
  /** Age range (years at the reference date) in which the illness is common enough to generate. */
  readonly ages: readonly [number, number];
}

const acute = (
  condition: Concept,
  setting: AcuteDefinition['setting'],
  treatments: AcuteDefinition['treatments'],
  [minDays, maxDays]: [number, number],
  febrile = false,
  ages: [number, number] = [0, 120]
): AcuteDefinition => ({ condition, setting, treatments, minDays, maxDays, febrile, ages });

export const ACUTE: readonly AcuteDefinition[] = [
  acute(snomed('444814009', 'Viral sinusitis (disorder)'), 'clinic', [null, MEDS.amoxicillinClavulanate], [7, 21]),
  acute(snomed('195662009', 'Acute viral pharyngitis (disorder)'), 'clinic', [null, MEDS.ibuprofen], [5, 10], true),
  acute(snomed('10509002', 'Acute bronchitis (disorder)'), 'clinic', [MEDS.acetaminophen, null], [10, 21], true),
  acute(
    snomed('43878008', 'Streptococcal sore throat (disorder)'),
    'clinic',
    [MEDS.penicillinV, MEDS.amoxicillin],
    [7, 12],
    true
  ),
  acute(snomed('65363002', 'Otitis media (disorder)'), 'clinic', [MEDS.amoxicillin, null], [5, 14], true, [0, 17]),
  acute(snomed('44465007', 'Sprain of ankle (disorder)'), 'emergency', [MEDS.ibuprofen], [14, 42]),
  acute(snomed('65966004', 'Fracture of forearm (disorder)'), 'emergency', [MEDS.acetaminophen], [42, 84]),
  acute(snomed('62106007', 'Concussion with no loss of consciousness (disorder)'), 'emergency', [null], [7, 28]),
  acute(snomed('29857009', 'Chest pain (finding)'), 'emergency', [MEDS.aspirin, null], [1, 3], false, [30, 120]),
];

export interface AllergyDefinition {
  readonly code: Concept;
  readonly category: 'food' | 'medication' | 'environment' | 'biologic';
  readonly reactions: readonly Concept[];
  readonly penicillin?: boolean;
}

const REACTION = {
  hives: snomed('247472004', 'Wheal (finding)'),
  rash: snomed('271807003', 'Eruption of skin (disorder)'),
  anaphylaxis: snomed('39579001', 'Anaphylaxis (disorder)'),
  dyspnea: snomed('267036007', 'Dyspnea (finding)'),
  itching: snomed('418290006', 'Itching of skin (finding)'),
  cough: snomed('49727002', 'Cough (finding)'),
  rhinitis: snomed('70076002', 'Rhinitis (disorder)'),
  nausea: snomed('422587007', 'Nausea (finding)'),
};

export const ALLERGIES: readonly AllergyDefinition[] = [
  {
    code: rxnorm('7980', 'penicillin G'),
    category: 'medication',
    reactions: [REACTION.hives, REACTION.anaphylaxis],
    penicillin: true,
  },
  {
    code: rxnorm('723', 'amoxicillin'),
    category: 'medication',
    reactions: [REACTION.rash, REACTION.itching],
    penicillin: true,
  },
  { code: rxnorm('2670', 'codeine'), category: 'medication', reactions: [REACTION.nausea, REACTION.itching] },
  { code: rxnorm('1191', 'aspirin'), category: 'medication', reactions: [REACTION.hives, REACTION.dyspnea] },
  {
    code: snomed('762952008', 'Peanut (substance)'),
    category: 'food',
    reactions: [REACTION.anaphylaxis, REACTION.hives],
  },
  {
    code: snomed('227493005', 'Cashew nuts (substance)'),
    category: 'food',
    reactions: [REACTION.hives, REACTION.anaphylaxis],
  },
  {
    code: snomed('102263004', 'Eggs (edible) (substance)'),
    category: 'food',
    reactions: [REACTION.rash, REACTION.nausea],
  },
  { code: snomed('3718001', "Cow's milk (substance)"), category: 'food', reactions: [REACTION.nausea, REACTION.rash] },
  {
    code: snomed('256259004', 'Pollen (substance)'),
    category: 'environment',
    reactions: [REACTION.rhinitis, REACTION.cough],
  },
  {
    code: snomed('264287008', 'Animal dander (substance)'),
    category: 'environment',
    reactions: [REACTION.rhinitis, REACTION.itching],
  },
  {
    code: snomed('260147004', 'House dust mite (organism)'),
    category: 'environment',
    reactions: [REACTION.rhinitis, REACTION.cough],
  },
  {
    code: snomed('111088007', 'Latex (substance)'),
    category: 'environment',
    reactions: [REACTION.rash, REACTION.hives],
  },
  {
    code: snomed('288328004', 'Bee venom (substance)'),
    category: 'environment',
    reactions: [REACTION.anaphylaxis, REACTION.hives],
  },
];

export const VACCINES = {
  influenza: cvx('140', 'Influenza, seasonal, injectable, preservative free'),
  covid: cvx('208', 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose'),
  td: cvx('113', 'Td (adult) preservative free'),
  tdap: cvx('115', 'Tdap'),
  pcv13: cvx('133', 'Pneumococcal conjugate PCV 13'),
  ppsv23: cvx('33', 'pneumococcal polysaccharide vaccine, 23 valent'),
  zoster: cvx('187', 'zoster vaccine recombinant'),
  hepB: cvx('08', 'Hep B, adolescent or pediatric'),
  mmr: cvx('03', 'MMR'),
  varicella: cvx('21', 'varicella'),
  dtap: cvx('20', 'DTaP'),
  ipv: cvx('10', 'IPV'),
  hpv: cvx('62', 'HPV, quadrivalent'),
  meningococcal: cvx('114', 'meningococcal MCV4P'),
} satisfies Record<string, Concept>;

export const ENCOUNTER_TYPES = {
  generalExam: snomed('162673000', 'General examination of patient (procedure)'),
  wellChild: snomed('410620009', 'Well child visit (procedure)'),
  followUp: snomed('390906007', 'Follow-up encounter (procedure)'),
  symptom: snomed('185345009', 'Encounter for symptom (procedure)'),
  emergency: snomed('50849002', 'Emergency room admission (procedure)'),
  telephone: snomed('185317003', 'Telephone encounter (procedure)'),
} satisfies Record<string, Concept>;

export const ENCOUNTER_CLASSES = {
  ambulatory: { system: SYSTEM.actCode, code: 'AMB', display: 'ambulatory' },
  emergency: { system: SYSTEM.actCode, code: 'EMER', display: 'emergency' },
  virtual: { system: SYSTEM.actCode, code: 'VR', display: 'virtual' },
} satisfies Record<string, Concept>;

import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';

export interface ExcuseNoteText {
  kind: 'work' | 'school';
  patientName: string;
  providerName: string;
  /** Local dates (YYYY-MM-DD), inclusive. */
  start: string;
  end: string;
  issued: string;
  comment?: string;
  documentId: string;
}

/** Breaks text into lines of at most `width` points in `font` at `size`. */
function wrap(text: string, width: number, measure: (s: string) => number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (measure(next) > width && line) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  return line ? [...lines, line] : lines;
}

/** pdf-lib's standard fonts encode WinAnsi only: anything else is replaced rather than failing the note. */
const winAnsi = (s: string): string => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

/**
 * The excuse note as a one-page A4 PDF (pdf-lib, standard Helvetica: no font files, no browser).
 * It says that the patient was seen and is excused for the dates, and nothing clinical unless the
 * provider adds a comment: the note goes to an employer or a school.
 */
export async function renderExcuseNote(t: ExcuseNoteText): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(`${t.kind === 'work' ? 'Work' : 'School'} excuse note`);
  pdf.setAuthor(winAnsi(t.providerName));
  pdf.setProducer('Hale');
  pdf.setCreationDate(new Date(t.issued));
  const page = pdf.addPage([595.28, 841.89]);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  let y = 770;
  const write = (text: string, size = 12, font = regular): void => {
    for (const line of wrap(winAnsi(text), 475, (s) => font.widthOfTextAtSize(s, size))) {
      page.drawText(line, { x: 60, y, size, font, color: rgb(0.1, 0.1, 0.1) });
      y -= size * 1.5;
    }
  };
  write(t.kind === 'work' ? 'Work excuse note' : 'School excuse note', 20, bold);
  y -= 12;
  write(`Issued ${t.issued.slice(0, 10)} by ${t.providerName}`);
  y -= 12;
  const absence = t.kind === 'work' ? 'work' : 'school';
  const span = t.start === t.end ? `on ${t.start}` : `from ${t.start} to ${t.end} inclusive`;
  write(`This is to confirm that ${t.patientName} is excused from ${absence} ${span} for medical reasons.`);
  if (t.comment) {
    y -= 6;
    write(t.comment);
  }
  y -= 24;
  write(`Signed electronically by ${t.providerName}.`, 11);
  write(`Document ${t.documentId}. Its signature is recorded with the document.`, 9);
  return pdf.save();
}

/** A text field of a submitted form: its value, or '' when it is missing or a file (FormData.get's other answers). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

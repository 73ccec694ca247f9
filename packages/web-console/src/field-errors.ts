import type { FieldViolation } from "@t2v/client/browser";

/**
 * Shows the server's field violations next to their fields (`err-<field>`,
 * snake_case as the server names them) and marks the inputs invalid;
 * violations of fields the form lacks go to the form-level message.
 */
export function showFieldErrors(form: HTMLFormElement, violations: FieldViolation[], formError: HTMLElement): void {
  clearFieldErrors(form, formError);
  const unplaced: string[] = [];
  let first: HTMLElement | undefined;
  for (const v of violations) {
    const slot = document.getElementById(`err-${v.field}`);
    const input = form.elements.namedItem(v.field);
    if (!slot) {
      unplaced.push(`${v.field}: ${v.description}`);
      continue;
    }
    slot.textContent = slot.hidden ? v.description : `${slot.textContent}; ${v.description}`;
    slot.hidden = false;
    if (input instanceof HTMLElement) {
      input.setAttribute("aria-invalid", "true");
      first ??= input;
    }
  }
  if (unplaced.length > 0) showFormError(formError, unplaced.join("\n"));
  // Keyboard users land on the first field to fix.
  first?.focus();
}

export function showFormError(formError: HTMLElement, message: string): void {
  formError.textContent = message;
  formError.hidden = false;
}

export function clearFieldErrors(form: HTMLFormElement, formError: HTMLElement): void {
  for (const slot of form.querySelectorAll<HTMLElement>(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  formError.hidden = true;
  formError.textContent = "";
}

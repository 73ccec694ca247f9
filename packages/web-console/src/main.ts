import { Code, ConnectError } from "@connectrpc/connect";
import { type BrowserProtocol, createBrowserClient, fieldViolations, type T2vClient } from "@t2v/client/browser";
import { loadApiKey, saveApiKey } from "./api-key-store.js";
import { byId } from "./dom.js";
import { clearFieldErrors, showFieldErrors, showFormError } from "./field-errors.js";
import { formRequest } from "./form-request.js";
import { createTaskList } from "./task-list.js";
import { createTaskPanel } from "./task-panel.js";

const form = byId("create-form", HTMLFormElement);
const keyInput = byId("api-key", HTMLInputElement);
const protocolSelect = byId("protocol", HTMLSelectElement);
const formError = byId("form-error", HTMLElement);
const generate = byId("generate", HTMLButtonElement);

keyInput.value = loadApiKey();
keyInput.addEventListener("change", () => {
  saveApiKey(keyInput.value.trim());
  void list.refresh();
});
byId("forget-key", HTMLButtonElement).addEventListener("click", () => {
  keyInput.value = "";
  saveApiKey("");
  keyInput.focus();
});

// One client per transport; the key is read at each call, so editing it needs no new client.
const clients = new Map<BrowserProtocol, T2vClient>();
function client(): T2vClient {
  const protocol: BrowserProtocol = protocolSelect.value === "grpc-web" ? "grpc-web" : "connect";
  let c = clients.get(protocol);
  if (!c) {
    c = createBrowserClient({ baseUrl: location.origin, apiKey: () => keyInput.value.trim(), protocol });
    clients.set(protocol, c);
  }
  return c;
}

const list = createTaskList(client, (task) => panel.follow(task));
const panel = createTaskPanel(client, () => void list.refresh());

form.addEventListener("submit", (e) => {
  e.preventDefault();
  clearFieldErrors(form, formError);
  const { request, problems } = formRequest(form);
  if (problems.length > 0) return showFieldErrors(form, problems, formError);
  saveApiKey(keyInput.value.trim());
  generate.disabled = true;
  client()
    .createTask(request)
    .then(
      (task) => panel.follow(task),
      (err: unknown) => {
        const e = ConnectError.from(err);
        const violations = fieldViolations(e);
        if (violations.length > 0) showFieldErrors(form, violations, formError);
        else if (e.code === Code.Unauthenticated)
          showFieldErrors(form, [{ field: "api_key", description: e.rawMessage }], formError);
        else showFormError(formError, e.rawMessage);
      },
    )
    .finally(() => {
      generate.disabled = false;
    });
});

byId("refresh", HTMLButtonElement).addEventListener("click", () => void list.refresh());
if (keyInput.value !== "") void list.refresh();

import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { fieldViolationsFrom } from "./contract-violations.js";
import { invalidArgument } from "./rpc-errors.js";

/**
 * One protovalidate validator for the process: it compiles the rules of each
 * message type (the `(buf.validate.field)` options of our .proto files, the
 * single source of truth for syntactic limits) once, on first use.
 */
const validator = createValidator();

/**
 * Checks a request against its contract; throws INVALID_ARGUMENT with
 * google.rpc.BadRequest field violations when it breaks a rule. Semantic
 * checks (blank prompt, control characters, style list, webhook target)
 * come after this, in the use cases.
 */
export function checkContract<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "invalid") throw invalidArgument(fieldViolationsFrom(result.violations));
  // The rules themselves do not compile: our bug, not the caller's.
  throw new ConnectError(`validation rules for ${schema.typeName} failed: ${result.error.message}`, Code.Internal);
}

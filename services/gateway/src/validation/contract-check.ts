import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "@t2v/common";
import { fieldViolationsFrom } from "./contract-violations.js";

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

/**
 * Validates every request message of every RPC (unary and streaming) before
 * the handler sees it. Runs after authentication, so an anonymous caller
 * learns nothing about the contract's rules from errors.
 */
export function contractInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      checkContract(req.method.input, req.message);
      return next(req);
    }
    const input = req.message;
    const schema = req.method.input;
    async function* checked() {
      for await (const m of input) {
        checkContract(schema, m);
        yield m;
      }
    }
    return next({ ...req, message: checked() });
  };
}

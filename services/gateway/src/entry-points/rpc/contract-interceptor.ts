import type { Interceptor } from "@connectrpc/connect";
import { checkContract } from "../../domain/check-contract.js";

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

import { pathToString } from "@bufbuild/protobuf/reflect";
import type { Violation } from "@bufbuild/protovalidate";
import type { FieldViolation } from "./rpc-errors.js";

/**
 * protovalidate violations as google.rpc.BadRequest field violations: the
 * field path in the .proto's snake_case names ("timeout", "items[2].name"),
 * the rule's message as the description, and its rule id as an AIP-193
 * style reason ("string.max_len" -> "STRING_MAX_LEN").
 */
export function fieldViolationsFrom(violations: readonly Violation[]): FieldViolation[] {
  return violations.map((v) => ({
    field: pathToString(v.field),
    description: v.message,
    reason: reasonOf(v.ruleId),
  }));
}

function reasonOf(ruleId: string): string {
  return ruleId
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
}

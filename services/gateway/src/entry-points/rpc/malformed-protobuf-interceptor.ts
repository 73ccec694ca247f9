import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Set by `gatewayNodeAdapter` on requests whose Protobuf body does not parse. */
export const MALFORMED_HEADER = "x-t2v-malformed-protobuf";

/**
 * Answers a request the node adapter flagged as unparsable Protobuf with
 * INVALID_ARGUMENT, in whichever protocol the call used (connect-es itself
 * would say INTERNAL: garbage from a client is the client's error).
 */
export function malformedProtobufInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.header.get(MALFORMED_HEADER) !== null)
      throw new ConnectError("request message is not valid Protobuf", Code.InvalidArgument);
    return next(req);
  };
}

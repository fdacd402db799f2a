/**
 * Type bytes of rpc messages. They live in ns's extension range (0x40..0x7f), which ns keeps apart
 * from user events, so no event name or payload can ever be mistaken for a control message.
 * The layout of each body is documented in PROTOCOL.md ("RPC").
 */
export const RpcMessageType = {
  /** server → client: version, scrypt parameters, salt, server nonce. */
  AUTH_CHALLENGE: 0x40,
  /** client → server: client nonce, client proof, username. */
  AUTH_PROOF: 0x41,
  /** server → client: the server's proof; the link is open. */
  AUTH_OK: 0x42,
  /** server → client: authentication refused; the server closes the link. */
  AUTH_FAIL: 0x43,
  /** either way: id, method, params. */
  REQUEST: 0x48,
  /** answer to a request: id, result. */
  RESULT: 0x49,
  /** answer to a request: id, error kind, error JSON. */
  ERROR: 0x4a,
  /** the requester gave up (timeout or abort): id. */
  CANCEL: 0x4b,
  /** keepalive probe: sequence number. */
  PING: 0x4c,
  /** keepalive answer, echoing the ping's body. */
  PONG: 0x4d,
} as const;

/** Version byte carried by the handshake; a peer speaking another version is refused. */
export const PROTOCOL_VERSION = 1;

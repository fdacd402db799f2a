import {
  ConnectionClosedError,
  InvalidParamsError,
  MethodNotFoundError,
  OverloadedError,
  RemoteError,
  ResultTooLargeError,
} from './errors.js';
import { ErrorKind, type WireError } from './messages.js';

/** The error a requester sees for an ERROR message. */
export function errorFromWire(kind: number, wire: WireError, method: string): Error {
  switch (kind) {
    case ErrorKind.METHOD_NOT_FOUND:
      return new MethodNotFoundError(wire.message, method);
    case ErrorKind.INVALID_PARAMS:
      return new InvalidParamsError(wire.message, wire.data);
    case ErrorKind.OVERLOADED:
      return new OverloadedError(wire.message);
    case ErrorKind.SHUTTING_DOWN:
      return new ConnectionClosedError(wire.message);
    case ErrorKind.RESULT_TOO_LARGE:
      return new ResultTooLargeError(wire.message);
    default:
      return new RemoteError(wire.code ?? 'INTERNAL', wire.message, wire.data);
  }
}

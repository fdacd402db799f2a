import { describe, expect, it } from 'vitest';
import {
  AuthFailedError,
  ConnectionClosedError,
  ProtoError,
  RemoteError,
  RpcError,
  RpcErrorCode,
  RequestTimeoutError,
} from '../src/errors.js';

describe('errors', () => {
  it('carry stable codes and work with instanceof', () => {
    const err = new AuthFailedError('no');
    expect(err.code).toBe('ERR_AUTH_FAILED');
    expect(err.fatal).toBe(true);
    expect(err).toBeInstanceOf(ProtoError);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect(err).not.toBeInstanceOf(RequestTimeoutError);
    expect(new ConnectionClosedError('x').code).toBe(RpcErrorCode.CONNECTION_CLOSED);
  });

  it('the code tables cannot be changed at run time (ns, rpc)', async () => {
    const { NsErrorCode } = await import('@proto/ns');
    for (const table of [NsErrorCode, RpcErrorCode]) {
      expect(table).toBeDefined();
      expect(Object.isFrozen(table)).toBe(true);
      expect(() => {
        (table as Record<string, string>).PROTOCOL = 'changed';
      }).toThrow(TypeError);
      expect(table.PROTOCOL).toBe('ERR_PROTOCOL');
    }
  });

  it('keep the remote code apart from the local one', () => {
    const err = new RemoteError('NOT_FOUND', 'missing', { id: 1 });
    expect(err.code).toBe('ERR_REMOTE');
    expect(err.remoteCode).toBe('NOT_FOUND');
    expect(err.data).toEqual({ id: 1 });
  });

  it('RpcError keeps the handler code and is recognised structurally', () => {
    const err = new RpcError('NOT_FOUND', 'missing', [1]);
    expect(err.code).toBe('NOT_FOUND');
    expect(err).toBeInstanceOf(RpcError);
    expect(new Error('x')).not.toBeInstanceOf(RpcError);
  });

  it('cover every code once', () => {
    const codes = Object.values(RpcErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of ['ERR_AUTH_TIMEOUT', 'ERR_METHOD_NOT_FOUND', 'ERR_INVALID_PARAMS', 'ERR_OVERLOADED', 'ERR_FRAME_TOO_LARGE']) {
      expect(codes).toContain(code);
    }
  });
});

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from '../src/address.js';
import { ConnectFailure, CliTimeoutError, UsageError } from '../src/errors.js';
import { ExitCode, exitCodeOf } from '../src/exit-codes.js';
import { matchesPattern } from '../src/event-pattern.js';
import { toJson } from '../src/json.js';
import { wantsColor } from '../src/output.js';
import { errorLine } from '../src/report.js';
import { schemaText } from '../src/schema-text.js';
import { StdinReader } from '../src/stdin.js';
import { RemoteError, RequestTimeoutError } from '@proto/rpc';

describe('addresses', () => {
  it('parse the four forms', () => {
    expect(parseAddress('localhost:7400')).toEqual({ transport: 'tcp', host: 'localhost', port: 7400 });
    expect(parseAddress('tcp://10.0.0.1:1')).toEqual({ transport: 'tcp', host: '10.0.0.1', port: 1 });
    expect(parseAddress('TLS://example.com:443')).toEqual({ transport: 'tls', host: 'example.com', port: 443 });
    expect(parseAddress('tls://[::1]:7400')).toEqual({ transport: 'tls', host: '::1', port: 7400 });
    expect(parseAddress('unix:/run/app.sock')).toEqual({ transport: 'unix', path: '/run/app.sock' });
    expect(parseAddress('unix:///run/app.sock')).toEqual({ transport: 'unix', path: '/run/app.sock' });
    expect(parseAddress('unix:./app.sock')).toEqual({ transport: 'unix', path: './app.sock' });
  });

  it('refuse anything else with ERR_USAGE', () => {
    for (const bad of ['7400', 'host', 'host:0', 'host:65536', 'host:port', 'http://h:1', 'unix:', '::1:7400', 'tcp://h']) {
      expect(() => parseAddress(bad), bad).toThrow(UsageError);
    }
  });

  it('format canonically', () => {
    expect(formatAddress(parseAddress('[::1]:1'))).toBe('tcp://[::1]:1');
    expect(formatAddress(parseAddress('unix:/x'))).toBe('unix:/x');
  });
});

describe('exit codes and error lines', () => {
  it('map each failure to its exit code', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(ExitCode.USAGE);
    expect(exitCodeOf(new RemoteError('E', 'x'))).toBe(ExitCode.REMOTE);
    expect(exitCodeOf(new RequestTimeoutError('x'))).toBe(ExitCode.TIMEOUT);
    expect(exitCodeOf(new CliTimeoutError('x'))).toBe(ExitCode.TIMEOUT);
    expect(exitCodeOf(new ConnectFailure('tcp://h:1', new RemoteError('E', 'x')))).toBe(ExitCode.CONNECTION);
    expect(exitCodeOf(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(ExitCode.CONNECTION);
    expect(exitCodeOf(Object.assign(new Error('x'), { code: 'ERR_OVERLOADED' }))).toBe(ExitCode.REMOTE);
  });

  it('print one line, multi-line messages folded', () => {
    expect(errorLine(new RemoteError('E_TEAPOT', "I'm a teapot"), false)).toBe("ERR_REMOTE E_TEAPOT: I'm a teapot");
    const invalid = Object.assign(new Error('invalid params for m:\n✖ bad\n  → at b\n'), { code: 'ERR_INVALID_PARAMS' });
    expect(errorLine(invalid, false)).toBe('ERR_INVALID_PARAMS: invalid params for m: ✖ bad; → at b');
    const failure = new ConnectFailure('tcp://h:1', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(errorLine(failure, false)).toBe('ECONNREFUSED: connect ECONNREFUSED (tcp://h:1)');
    expect(JSON.parse(errorLine(failure, true))).toEqual({ error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED', address: 'tcp://h:1' } });
  });
});

describe('output', () => {
  it('writes bytes as base64 and undefined as null', () => {
    expect(toJson({ a: Buffer.from('hi'), b: new Uint8Array([255]) })).toBe('{"a":{"$base64":"aGk="},"b":{"$base64":"/w=="}}');
    expect(toJson(Buffer.from([1]))).toBe('{"$base64":"AQ=="}');
    expect(toJson(undefined)).toBe('null');
  });

  it('colours only a TTY, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR', () => {
    const tty = { isTTY: true } as Parameters<typeof wantsColor>[0];
    const pipe = { isTTY: false } as Parameters<typeof wantsColor>[0];
    expect(wantsColor(tty, {})).toBe(true);
    expect(wantsColor(pipe, {})).toBe(false);
    expect(wantsColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor(tty, { TERM: 'dumb' })).toBe(false);
    expect(wantsColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColor(tty, { FORCE_COLOR: '0', NO_COLOR: '1' })).toBe(false);
  });
});

describe('schemaText', () => {
  it('reads JSON Schemas as short types', () => {
    expect(schemaText({ type: 'object', properties: { a: { type: 'number' }, 'b-c': { type: 'string' } }, required: ['a'] })).toBe('{ a: number, "b-c"?: string }');
    expect(schemaText({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } })).toBe('(string | null)[]');
    expect(schemaText({ enum: ['x', 'y'] })).toBe('"x" | "y"');
    expect(schemaText({ const: 3 })).toBe('3');
    expect(schemaText({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'boolean' }] })).toBe('[integer, boolean]');
    expect(schemaText({ type: 'object', additionalProperties: { type: 'number' } })).toBe('{ [key: string]: number }');
    expect(schemaText({})).toBe('unknown');
    expect(schemaText({ type: ['string', 'null'] })).toBe('string | null');
  });

  it('stops at a depth', () => {
    let schema: Record<string, unknown> = { type: 'number' };
    for (let i = 0; i < 6; i++) schema = { type: 'array', items: schema };
    expect(schemaText(schema)).toBe('...[][][][]');
  });
});

describe('StdinReader', () => {
  it('hands out the first line, then the rest', async () => {
    const reader = new StdinReader(Readable.from(['pass', 'word\r\n{"a"', ':1}']));
    expect(await reader.line()).toBe('password');
    expect(await reader.rest()).toBe('{"a":1}');
    expect(await reader.line()).toBe('');
  });

  it('yields lines as they come, the last one without a newline too', async () => {
    const reader = new StdinReader(Readable.from(['1\n2', '\n\n3']));
    const lines: string[] = [];
    for await (const line of reader.lines()) lines.push(line);
    expect(lines).toEqual(['1', '2', '', '3']);
  });
});

describe('matchesPattern (sub with several patterns)', () => {
  it('matches as ns wildcards do: * one segment, ** any number, none included', () => {
    const cases: [string, string, boolean][] = [
      ['a::*', 'a::b', true],
      ['a::*', 'a', false],
      ['a::*', 'a::b::c', false],
      ['a::**', 'a', true],
      ['a::**', 'a::b::c', true],
      ['**::b', 'b', true],
      ['**::b', 'x::y::b', true],
      ['**::b', 'b::x', false],
      ['a::**::c', 'a::c', true],
      ['a::**::c', 'a::b::d::c', true],
      ['a::**::c', 'a::b', false],
      ['**', 'anything::at::all', true],
      ['*', 'b', true],
      ['x', 'x::y', false],
    ];
    for (const [pattern, event, expected] of cases) expect([pattern, event, matchesPattern(pattern.split('::'), event.split('::'))]).toEqual([pattern, event, expected]);
  });
});
